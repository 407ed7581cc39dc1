using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Accounts;

/// <summary>
/// Double-entry book of the settlement asset. Every movement of value is a transfer between two
/// ledger accounts, so the sum over all of them is zero by construction:
/// <c>Σ trader cash + fee account + insurance fund + external = 0</c>. The external account is
/// the outside world: deposits move value out of it, withdrawals into it, so
/// <c>−External = deposits − withdrawals</c> is the total the venue holds.
/// </summary>
public sealed class Ledger
{
    /// <summary>Fees collected minus rebates paid, plus rounding residues.</summary>
    public Money FeeAccount { get; private set; }

    /// <summary>
    /// The insurance fund's own account (id 0): its cash is the fund, and it holds the positions it
    /// takes over from liquidations (the backstop). Not a trading account: nobody can place orders in it.
    /// </summary>
    public Account Insurance { get; } = new(0, 4);

    /// <summary>The insurance fund's cash: funding residues, liquidation fees, governance deposits, minus deficits covered.</summary>
    public Money InsuranceFund
    {
        get => Insurance.Cash;
        private set => Insurance.Cash = value;
    }

    /// <summary>Minus everything deposited plus everything withdrawn.</summary>
    public Money External { get; private set; }

    public Money TotalDeposited { get; private set; }

    public Money TotalWithdrawn { get; private set; }

    internal void Restore(Money feeAccount, Money insuranceFund, Money external, Money totalDeposited, Money totalWithdrawn)
    {
        FeeAccount = feeAccount;
        InsuranceFund = insuranceFund;
        External = external;
        TotalDeposited = totalDeposited;
        TotalWithdrawn = totalWithdrawn;
    }

    public void Deposit(Account account, Money amount)
    {
        External -= amount;
        account.Cash += amount;
        TotalDeposited += amount;
    }

    public void Withdraw(Account account, Money amount)
    {
        account.Cash -= amount;
        External += amount;
        TotalWithdrawn += amount;
    }

    /// <summary>Moves cash between two traders (the cash leg of a fill).</summary>
    public static void Transfer(Account from, Account to, Money amount)
    {
        from.Cash -= amount;
        to.Cash += amount;
    }

    /// <summary>A fee (positive) from a trader to the fee account, or a rebate (negative) the other way.</summary>
    public void ChargeFee(Account account, Money fee)
    {
        account.Cash -= fee;
        FeeAccount += fee;
    }

    /// <summary>
    /// Funding in transit during one funding settlement: payers pay into it, receivers are paid from
    /// it, and <see cref="SweepFundingToInsurance"/> moves the rounding residue (never negative,
    /// because payers round up and receivers down) to the insurance fund. Zero between commands.
    /// </summary>
    public Money FundingInTransit { get; private set; }

    /// <summary>A position's funding: positive is paid by the account, negative received.</summary>
    public void SettleFunding(Account account, Money payment)
    {
        account.Cash -= payment;
        FundingInTransit += payment;
    }

    public Money SweepFundingToInsurance()
    {
        var residue = FundingInTransit;
        if (residue.IsNegative)
        {
            throw new InvalidOperationException("Funding paid out more than it took in: rounding must go against the payer.");
        }

        InsuranceFund += residue;
        FundingInTransit = Money.Zero;
        return residue;
    }

    /// <summary>
    /// The insurance fund pays an account's deficit (an isolated position that lost more than its
    /// collateral). The fund may go negative here; the default waterfall (liquidation issue) bounds it.
    /// </summary>
    public void CoverDeficit(Account account, Money amount)
    {
        InsuranceFund -= amount;
        account.Cash += amount;
    }

    /// <summary>Governance tops up the insurance fund from outside the venue.</summary>
    public void DepositToInsurance(Money amount)
    {
        External -= amount;
        InsuranceFund += amount;
        TotalDeposited += amount;
    }

    /// <summary>A liquidation fee from a liquidated account to the insurance fund.</summary>
    public void ChargeLiquidationFee(Account account, Money fee)
    {
        account.Cash -= fee;
        InsuranceFund += fee;
    }

    /// <summary>A rounding residue a trader pays so that the other side's credit can round down.</summary>
    public void CollectResidue(Account account, Money residue)
    {
        account.Cash -= residue;
        FeeAccount += residue;
    }
}
