using Clearhouse.Core.Accounts;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Engine;

/// <summary>
/// Liquidation and the default waterfall (docs/liquidation.md). After every accepted command the
/// engine checks the health of whoever the command could have hurt — every account exposed to an
/// underlying whose marks moved (index, oracle, surface, the clock's basis samples and funding),
/// and every account that traded — and queues those whose equity is below maintenance. It then
/// runs at most <see cref="EngineConfig.MaxLiquidationStepsPerCommand"/> steps, one per queued
/// account, round-robin, so that a cascade is processed in bounded work per command and a crash
/// in the middle replays identically (the queue is state).
/// </summary>
public sealed partial class Engine
{
    private readonly List<LiquidationKey> liquidationQueue = [];
    private readonly HashSet<LiquidationKey> liquidationQueued = [];
    private readonly List<LiquidationProof> liquidations = [];
    private readonly List<Account> fillAccounts = [];
    private readonly List<AccountHealth> healthScratch = [];
    private readonly List<LiquidationKey> newlyUnhealthy = [];
    private bool clockMovedMarks;

    /// <summary>Proofs of the liquidation steps of the last applied command (events refer to them by <see cref="EngineEvent.ProofIndex"/>).</summary>
    public IReadOnlyList<LiquidationProof> Liquidations => liquidations;

    /// <summary>The liquidation queue in processing order: (account, 0) for a cross account, (account, instrument) for an isolated position.</summary>
    public IReadOnlyList<LiquidationKey> LiquidationQueue => liquidationQueue;

    /// <summary>True when the account (cross) or its isolated position in <paramref name="instrumentId"/> is being liquidated.</summary>
    public bool IsBeingLiquidated(int accountId, int instrumentId)
    {
        if (liquidationQueue.Count == 0)
        {
            return false;
        }

        if (liquidationQueued.Contains(new LiquidationKey(accountId, 0)))
        {
            return instrumentId == 0 || !TryGetAccount(accountId, out var account) || !account.GetPosition(instrumentId).Isolated;
        }

        return instrumentId != 0 && liquidationQueued.Contains(new LiquidationKey(accountId, instrumentId));
    }

    internal void RestoreLiquidationQueue(IEnumerable<LiquidationKey> keys)
    {
        foreach (var key in keys)
        {
            if (liquidationQueued.Add(key))
            {
                liquidationQueue.Add(key);
            }
        }
    }

    private void NoteFill(Account account)
    {
        if (account.Id == 0)
        {
            return;
        }

        foreach (var a in fillAccounts)
        {
            if (ReferenceEquals(a, account))
            {
                return;
            }
        }

        fillAccounts.Add(account);
    }

    private RejectReason ApplyDepositInsurance(DepositInsuranceFund command)
    {
        if (!command.Amount.IsPositive)
        {
            return RejectReason.AmountNotPositive;
        }

        if (command.Amount.Micros > config.MaxTransferMicros || Ledger.TotalDeposited.Micros > (long.MaxValue / 2) - command.Amount.Micros)
        {
            return RejectReason.AmountTooLarge;
        }

        Ledger.DepositToInsurance(command.Amount);
        ref var e = ref Emit(EventKind.InsuranceDeposited);
        e.Amount = command.Amount;
        return RejectReason.None;
    }

    // ---------------------------------------------------------------- health checks

    /// <summary>Health checks for what <paramref name="command"/> could have moved, then bounded liquidation work.</summary>
    private void RunLiquidations(Command command)
    {
        newlyUnhealthy.Clear();
        switch (command)
        {
            case SetIndexPrice c when c.Underlying is not null && underlyingsByName.TryGetValue(c.Underlying, out var u):
                CheckExposed(u);
                break;
            case SubmitPriceReport c when c.Report?.Underlying is not null && underlyingsByName.TryGetValue(c.Report.Underlying, out var u):
                CheckExposed(u);
                break;
            case SetVolatilitySurface c when c.Update?.Parameters?.Underlying is not null && underlyingsByName.TryGetValue(c.Update.Parameters.Underlying, out var u):
                CheckExposed(u);
                break;
            case Tick when clockMovedMarks:
                foreach (var underlying in underlyings)
                {
                    CheckExposed(underlying);
                }

                break;
        }

        foreach (var account in fillAccounts)
        {
            CheckAccount(account);
        }

        QueueNewlyUnhealthy();
        if (liquidationQueue.Count > 0)
        {
            DrainLiquidations();

            // The steps traded against other accounts: resting orders they filled, positions they deleveraged at the
            // bankruptcy price. Those accounts are checked too, so that one the drain left below maintenance — or below
            // zero with nothing left to close, which no later mark move would ever find — is queued for the next command.
            newlyUnhealthy.Clear();
            foreach (var account in fillAccounts)
            {
                CheckAccount(account);
            }

            QueueNewlyUnhealthy();
        }
    }

    /// <summary>Newly found accounts join the queue in a canonical order, whatever order the checks ran in.</summary>
    private void QueueNewlyUnhealthy()
    {
        newlyUnhealthy.Sort();
        foreach (var key in newlyUnhealthy)
        {
            if (liquidationQueued.Add(key))
            {
                liquidationQueue.Add(key);
                ref var e = ref Emit(EventKind.LiquidationQueued);
                e.AccountId = key.AccountId;
                e.InstrumentId = key.InstrumentId;
            }
        }
    }

    private void CheckExposed(Underlying underlying)
    {
        if (underlying.Exposure.Count == 0)
        {
            return;
        }

        Remargin(underlying, healthScratch);
        foreach (var health in healthScratch)
        {
            if (health.BelowMaintenance)
            {
                newlyUnhealthy.Add(new LiquidationKey(health.AccountId, health.InstrumentId));
            }
        }
    }

    private void CheckAccount(Account account)
    {
        var cross = margin.Health(account);
        if (cross.Equity < cross.Maintenance)
        {
            newlyUnhealthy.Add(new LiquidationKey(account.Id, 0));
        }

        foreach (int instrumentId in account.ActiveInstruments)
        {
            var position = account.GetPosition(instrumentId);
            if (position.Isolated)
            {
                var isolated = margin.Isolated(instruments[instrumentId - 1], position);
                if (isolated.Equity < isolated.Maintenance)
                {
                    newlyUnhealthy.Add(new LiquidationKey(account.Id, instrumentId));
                }
            }
        }
    }

    // ---------------------------------------------------------------- the waterfall

    private void DrainLiquidations()
    {
        int budget = Math.Min(config.MaxLiquidationStepsPerCommand, liquidationQueue.Count);
        var processed = new LiquidationKey[budget];
        liquidationQueue.CopyTo(0, processed, 0, budget);
        liquidationQueue.RemoveRange(0, budget);
        foreach (var key in processed)
        {
            if (LiquidationStepFor(key))
            {
                liquidationQueue.Add(key);
            }
            else
            {
                liquidationQueued.Remove(key);
                ref var e = ref Emit(EventKind.LiquidationEnded);
                e.AccountId = key.AccountId;
                e.InstrumentId = key.InstrumentId;
            }
        }
    }

    /// <summary>One step of one queued account; true while it must stay in the queue.</summary>
    private bool LiquidationStepFor(LiquidationKey key)
    {
        var account = accounts[key.AccountId - 1];
        bool isolated = key.InstrumentId != 0;
        var summary = Scope(account, key.InstrumentId);
        int chosen = ChoosePosition(account, key.InstrumentId);
        if (chosen == 0)
        {
            if (summary.Equity.IsNegative)
            {
                // Nothing left to close but a deficit (a position closed against it by auto-deleveraging, say): its
                // orders go, so that an isolated position left flat is released and the fund covers what it lost,
                // and the fund covers what a cross account still owes.
                CancelOrdersInScope(account, key.InstrumentId);
                var left = Scope(account, key.InstrumentId).Equity;
                if (!isolated && left.IsNegative)
                {
                    CoverRemainingDeficit(account, -left);
                }
            }

            return false;
        }

        // Due only below maintenance (equal is not liquidatable): each step re-checks, so every
        // step's proof stands alone.
        if (summary.Equity >= summary.Maintenance)
        {
            return false;
        }

        // Never liquidate on a price the venue does not trust: a stale oracle holds the step (the
        // account stays queued) until reports resume.
        if (IsStale(instruments[chosen - 1]))
        {
            return true;
        }

        // Cancelling orders changes neither equity nor maintenance at given marks, but the mark of a future or
        // perpetual follows its book, of which the account's own orders were part: decide again on the marks as
        // they now stand, so that the proof is of a step that was due and of the position the rules choose.
        CancelOrdersInScope(account, key.InstrumentId);
        summary = Scope(account, key.InstrumentId);
        chosen = ChoosePosition(account, key.InstrumentId);
        if (summary.Equity >= summary.Maintenance)
        {
            return false;
        }

        var instrument = instruments[chosen - 1];
        if (IsStale(instrument))
        {
            return true;
        }

        var position = account.GetPosition(chosen);
        var mark = instrument.MarkPrice;
        var bankruptcy = LiquidationRules.BankruptcyPrice(position.Size, mark, summary.Equity);
        var step = LiquidationRules.StepSize(position.Size.Abs(), mark, instrument.Spec.MinAmount, config.LiquidationFullCloseNotionalMicros, config.LiquidationStepPpm);
        var side = position.Size.IsPositive ? Side.Sell : Side.Buy;

        // An isolated position that this step closes would hand its collateral back to the cross
        // balance as soon as it is flat (ReleaseIfIdle), before the fee below could be charged from
        // it: hold the release until the step is done.
        if (isolated)
        {
            heldIsolatedRelease = (account.Id, chosen);
        }

        try
        {
            return LiquidationWaterfall(key, account, isolated, summary, chosen, instrument, step, bankruptcy, side);
        }
        finally
        {
            if (isolated)
            {
                heldIsolatedRelease = default;
                ReleaseIfIdle(account, chosen);
            }
        }
    }

    /// <summary>The step itself, once it is due: book, takeover, auto-deleveraging, fee.</summary>
    private bool LiquidationWaterfall(LiquidationKey key, Account account, bool isolated, MarginSummary summary, int chosen, Instrument instrument, Quantity step, Price bankruptcy, Side side)
    {
        var proof = BuildProof(account, key.InstrumentId, summary, chosen, step, bankruptcy);
        int proofIndex = liquidations.Count;
        liquidations.Add(proof);
        ref var started = ref Emit(EventKind.LiquidationStep);
        started.AccountId = account.Id;
        started.InstrumentId = chosen;
        started.Side = side;
        started.Quantity = step;
        started.Price = bankruptcy;
        started.Amount = summary.Equity;
        started.ProofIndex = proofIndex;

        // 1. Through the book, never worse than the bankruptcy price.
        var filledNotional = Money.Zero;
        var remaining = step;
        var limit = LiquidationRules.BookLimit(side, bankruptcy, instrument.Spec.TickSize);
        if (instrument.State == InstrumentState.Active && limit.IsPositive)
        {
            var order = new RestingOrder
            {
                OrderId = nextOrderId++,
                AccountId = account.Id,
                Side = side,
                Flags = OrderFlags.ReduceOnly,
                Price = limit,
                Amount = step,
                Remaining = step,
                CreatedMicros = now,
                UpdatedMicros = now,
            };
            EmitOrder(EventKind.OrderAccepted, instrument, order);
            MatchIncoming(account, instrument, ref order, SelfTradePrevention.CancelResting, isLiquidation: true, out filledNotional);
            if (order.Remaining.IsPositive)
            {
                EmitCancelled(instrument, order, CancelReason.ImmediateOrCancelRemainder);
            }

            remaining = order.Remaining;
            AfterTrading(instrument, account);
        }

        // 2. The insurance fund takes over what the book could not absorb, within its limits.
        if (remaining.IsPositive)
        {
            var taken = BackstopCapacity(instrument, side, bankruptcy, remaining);
            if (taken.IsPositive)
            {
                ClearFill(instrument, account, Ledger.Insurance, side, bankruptcy, taken, out _, out _, takerPaysFee: false, makerPaysFee: false, throughBook: false);
                ref var e = ref Emit(EventKind.BackstopTakeover);
                e.AccountId = account.Id;
                e.MakerAccountId = 0;
                e.InstrumentId = instrument.Id;
                e.Side = side;
                e.Quantity = taken;
                e.Price = bankruptcy;
                e.ProofIndex = proofIndex;
                Touch(Ledger.Insurance);
                AfterTrading(instrument, account);
                remaining -= taken;
            }
        }

        // 3. Auto-deleveraging closes the rest against the most profitable, most levered opposite positions.
        if (remaining.IsPositive)
        {
            AutoDeleverage(account, instrument, side, bankruptcy, remaining, proof, proofIndex);
        }

        // 4. The liquidation fee on what went through the book, never more than the equity left.
        if (filledNotional.IsPositive && config.LiquidationFeePpm > 0)
        {
            var equityLeft = Scope(account, key.InstrumentId).Equity;
            var fee = Money.Min(filledNotional.MultiplyPpm(config.LiquidationFeePpm, Rounding.Ceiling), Money.Max(Money.Zero, equityLeft));
            if (fee.IsPositive)
            {
                Ledger.ChargeLiquidationFee(account, fee);
                if (isolated)
                {
                    account.PositionIn(key.InstrumentId).IsolatedCash -= fee;
                }

                ref var e = ref Emit(EventKind.LiquidationFeeCharged);
                e.AccountId = account.Id;
                e.InstrumentId = chosen;
                e.Amount = fee;
                e.ProofIndex = proofIndex;
            }
        }

        dirtyAccounts.Mark(account.Id);
        var after = Scope(account, key.InstrumentId);
        bool anyLeft = ChoosePosition(account, key.InstrumentId) != 0;
        if (!anyLeft && !isolated && after.Equity.IsNegative)
        {
            CoverRemainingDeficit(account, -after.Equity);
            return false;
        }

        return anyLeft && after.Equity < after.Maintenance;
    }

    private bool IsStale(Instrument instrument) =>
        instrument.Underlying.Oracle is not null && instrument.Underlying.StatusAt(now) == Oracles.OracleStatus.Stale;

    private MarginSummary Scope(Account account, int isolatedInstrumentId) =>
        isolatedInstrumentId == 0
            ? margin.Cross(account)
            : margin.Isolated(instruments[isolatedInstrumentId - 1], account.GetPosition(isolatedInstrumentId));

    private void CancelOrdersInScope(Account account, int isolatedInstrumentId)
    {
        foreach (int instrumentId in account.ActiveInstruments.ToArray())
        {
            var position = account.GetPosition(instrumentId);
            if (position.OpenOrderCount == 0 || (isolatedInstrumentId != 0 ? instrumentId != isolatedInstrumentId : position.Isolated))
            {
                continue;
            }

            var instrument = instruments[instrumentId - 1];
            foreach (var order in instrument.Book.OrdersInPriority())
            {
                if (order.AccountId == account.Id)
                {
                    CancelResting(account, instrument, order.OrderId, CancelReason.Liquidation);
                }
            }

            ReleaseIfIdle(account, instrumentId);
            dirtyAccounts.Mark(account.Id);
            dirtyInstruments.Mark(instrumentId);
        }
    }

    /// <summary>
    /// The position to close next: the isolated one, or among cross positions the one with the
    /// largest maintenance contribution (portfolio accounts: the largest loss in the binding
    /// scenario), ties to the lowest instrument id. 0 when nothing is left.
    /// </summary>
    private int ChoosePosition(Account account, int isolatedInstrumentId)
    {
        if (isolatedInstrumentId != 0)
        {
            return account.GetPosition(isolatedInstrumentId).Size.IsZero ? 0 : isolatedInstrumentId;
        }

        return LiquidationRules.LargestContribution(margin.Report(account).Positions);
    }

    /// <summary>How much of <paramref name="wanted"/> the insurance fund can take over: within its per-instrument exposure limit and without falling below its floor.</summary>
    private Quantity BackstopCapacity(Instrument instrument, Side liquidatedSide, Price bankruptcy, Quantity wanted)
    {
        var mark = instrument.MarkPrice;
        var fund = Ledger.Insurance;
        long held = fund.GetPosition(instrument.Id).Size.Units;
        long direction = liquidatedSide == Side.Sell ? 1 : -1;
        var lot = instrument.Spec.MinAmount;

        // Exposure: |held + direction × q| × mark ≤ limit. In 128 bits: at a low mark, or with a large fund and a
        // small loss per contract, the room in units can exceed a long; it is only ever compared with `wanted`.
        // Both quotients are of non-negative numbers, so truncation is the floor.
        Int128 limitUnits = mark.IsPositive
            ? (Int128)config.BackstopMaxNotionalPerInstrumentMicros * Quantity.Scale / mark.Micros
            : 0;
        Int128 room = direction > 0 ? limitUnits - held : limitUnits + held;
        long take = (long)Int128.Clamp(room, 0, wanted.Units);

        // Floor: the takeover's immediate loss (bankruptcy price beyond the mark) must leave the fund at or above its floor.
        // The fill itself rounds against the fund by less than two micros (it pays the notional rounded up, or receives it
        // rounded down, and its position is valued rounded down): the exact change is checked, and where the rounding would
        // take it past the floor, two micros of headroom are kept back for it, which always suffices.
        long lossPerContract = direction > 0 ? bankruptcy.Micros - mark.Micros : mark.Micros - bankruptcy.Micros;
        long headroom = take > 0 ? margin.Cross(fund).Equity.Micros - config.InsuranceFloorMicros : 0;
        if (lossPerContract > 0)
        {
            take = Affordable(take, headroom, lossPerContract, lot);
            if (take > 0 && TakeoverEquityChange(held, direction, new Quantity(take), bankruptcy, mark) < -headroom)
            {
                take = Affordable(take, headroom - 2, lossPerContract, lot);
            }
        }
        else
        {
            take -= take % lot.Units;

            // At no loss per contract that rounding alone can still cost a micro: not when the fund is at (or below) its floor.
            if (take > 0 && headroom < 2 && TakeoverEquityChange(held, direction, new Quantity(take), bankruptcy, mark) < Math.Min(0, -headroom))
            {
                take = 0;
            }
        }

        return new Quantity(take);
    }

    /// <summary>At most <paramref name="take"/> units whose loss at <paramref name="lossPerContract"/> stays within <paramref name="headroom"/>, in whole lots.</summary>
    private static long Affordable(long take, long headroom, long lossPerContract, Quantity lot)
    {
        Int128 affordable = headroom <= 0 ? 0 : (Int128)headroom * Quantity.Scale / lossPerContract;
        take = (long)Int128.Min(take, affordable);
        return take - (take % lot.Units);
    }

    /// <summary>
    /// What taking over <paramref name="quantity"/> at <paramref name="price"/> does to the fund's equity, exactly: the
    /// cash leg of the fill (a buyer pays the notional rounded up, a seller receives it rounded down) and the change in
    /// its position's value at the mark (rounded down, as in <see cref="StandardMargin.PositionValue"/>).
    /// </summary>
    private static long TakeoverEquityChange(long held, long direction, Quantity quantity, Price price, Price mark)
    {
        long cash = direction > 0 ? -Notional.Of(price, quantity, Rounding.Ceiling).Micros : Notional.Of(price, quantity, Rounding.Floor).Micros;
        long before = StandardMargin.PositionValue(mark, new Quantity(held)).Micros;
        long after = StandardMargin.PositionValue(mark, new Quantity(held + (direction * quantity.Units))).Micros;
        return cash + after - before;
    }

    private void AutoDeleverage(Account bankrupt, Instrument instrument, Side side, Price bankruptcy, Quantity remaining, LiquidationProof proof, int proofIndex)
    {
        var ranking = AdlRanking(instrument, side == Side.Sell ? -1 : 1, excludeAccountId: bankrupt.Id);
        proof.AdlRanking.AddRange(ranking);
        foreach (var candidate in ranking)
        {
            if (!remaining.IsPositive)
            {
                break;
            }

            var counterparty = candidate.AccountId == 0 ? Ledger.Insurance : accounts[candidate.AccountId - 1];
            var size = counterparty.GetPosition(instrument.Id).Size.Abs();
            var quantity = new Quantity(Math.Min(size.Units, remaining.Units));
            if (!quantity.IsPositive)
            {
                continue;
            }

            // The counterparty's orders on the closing side could exceed its new position: reduce-only trimming handles them.
            ClearFill(instrument, bankrupt, counterparty, side, bankruptcy, quantity, out _, out _, takerPaysFee: false, makerPaysFee: false, throughBook: false);
            ref var e = ref Emit(EventKind.AutoDeleveraged);
            e.AccountId = bankrupt.Id;
            e.MakerAccountId = counterparty.Id;
            e.InstrumentId = instrument.Id;
            e.Side = side;
            e.Quantity = quantity;
            e.Price = bankruptcy;
            e.ProofIndex = proofIndex;
            NoteFill(counterparty);
            Touch(counterparty);
            AfterTrading(instrument, bankrupt);
            remaining -= quantity;
        }
    }

    /// <summary>
    /// Accounts holding a position of sign <paramref name="sign"/> in the instrument, most exposed
    /// first by the ADL key (docs/liquidation.md), ties to the lowest account id; the insurance
    /// fund last. These are the accounts deleveraged when the other side goes bankrupt.
    /// </summary>
    public List<AdlCandidate> AdlRanking(Instrument instrument, int sign, int excludeAccountId = -1)
    {
        var ranking = new List<AdlCandidate>();
        var mark = instrument.MarkPrice;
        foreach (int accountId in instrument.Underlying.Exposure.Members)
        {
            if (accountId == excludeAccountId)
            {
                continue;
            }

            var account = accounts[accountId - 1];
            var position = account.GetPosition(instrument.Id);
            if (Math.Sign(position.Size.Units) != sign)
            {
                continue;
            }

            var equity = position.Isolated ? margin.Isolated(instrument, position).Equity : margin.Cross(account).Equity;
            ranking.Add(new AdlCandidate(accountId, LiquidationRules.AdlKey(position.Size, position.OpenCost, mark, equity)));
        }

        ranking.Sort(static (a, b) => b.Key != a.Key ? b.Key.CompareTo(a.Key) : a.AccountId.CompareTo(b.AccountId));
        if (Math.Sign(Ledger.Insurance.GetPosition(instrument.Id).Size.Units) == sign)
        {
            ranking.Add(new AdlCandidate(0, 0.0));
        }

        return ranking;
    }

    /// <summary>An account's place in the ADL queue of one instrument: 1 is deleveraged first; 0 when it has no position there.</summary>
    public (int Rank, int Of, double Key) GetAdlRank(int accountId, int instrumentId)
    {
        if (!TryGetAccount(accountId, out var account) || !TryGetInstrument(instrumentId, out var instrument))
        {
            return (0, 0, 0);
        }

        int sign = Math.Sign(account.GetPosition(instrumentId).Size.Units);
        if (sign == 0)
        {
            return (0, 0, 0);
        }

        var ranking = AdlRanking(instrument, sign);
        int index = ranking.FindIndex(c => c.AccountId == accountId);
        return index < 0 ? (0, ranking.Count, 0) : (index + 1, ranking.Count, ranking[index].Key);
    }

    /// <summary>What a cross account still owes after everything is closed: the insurance fund pays it.</summary>
    private void CoverRemainingDeficit(Account account, Money deficit)
    {
        Ledger.CoverDeficit(account, deficit);
        dirtyAccounts.Mark(account.Id);
        ref var e = ref Emit(EventKind.InsuranceDeficitCovered);
        e.AccountId = account.Id;
        e.Amount = deficit;
    }

    private LiquidationProof BuildProof(Account account, int isolatedInstrumentId, MarginSummary summary, int chosen, Quantity step, Price bankruptcy)
    {
        var positions = new List<ProofPosition>();
        var underlyingIds = new SortedSet<int>();
        var cash = account.Cash;
        foreach (int id in account.ActiveInstruments)
        {
            var p = account.GetPosition(id);
            bool inScope = isolatedInstrumentId == 0 ? !p.Isolated : id == isolatedInstrumentId;
            if (p.Isolated && isolatedInstrumentId == 0)
            {
                cash -= p.IsolatedCash;
            }

            if (!inScope)
            {
                continue;
            }

            var instrument = instruments[id - 1];
            underlyingIds.Add(instrument.Underlying.Id);
            double vol = double.NaN;
            if (instrument.Kind == InstrumentKind.Option && instrument.Underlying.VolSurface is { } surface && instrument.OptionForward.IsPositive)
            {
                var terms = instrument.Spec.Terms;
                vol = surface.Volatility(Pricing.OptionMarks.ToDouble(terms.Strike), Pricing.OptionMarks.ToDouble(instrument.OptionForward), terms.ExpiryMicros, instrument.OptionMarkedMicros);
            }

            positions.Add(new ProofPosition(id, instrument.Spec, instrument.MarkPrice, p.Size, p.OpenCost, p.OpenBuyQuantity, p.OpenSellQuantity, p.OpenBuyNotional, p.OpenSellNotional, p.Isolated, p.IsolatedCash,
                instrument.OptionForward, instrument.OptionMarkedMicros, vol));
        }

        if (isolatedInstrumentId != 0)
        {
            cash = account.GetPosition(isolatedInstrumentId).IsolatedCash;
        }

        var underlyingPrices = underlyingIds.Select(u => new ProofUnderlying(u, underlyings[u - 1].Name, underlyings[u - 1].IndexPrice)).ToList();
        return new LiquidationProof
        {
            Sequence = sequence,
            TimestampMicros = now,
            AccountId = account.Id,
            IsolatedInstrumentId = isolatedInstrumentId,
            Mode = isolatedInstrumentId == 0 ? account.MarginMode : MarginMode.Standard,
            Cash = cash,
            Positions = positions,
            Underlyings = underlyingPrices,
            Equity = summary.Equity,
            Maintenance = summary.Maintenance,
            Initial = summary.Initial,
            ChosenInstrumentId = chosen,
            Step = step,
            BankruptcyPrice = bankruptcy,
            FullCloseNotionalMicros = config.LiquidationFullCloseNotionalMicros,
            StepPpm = config.LiquidationStepPpm,
        };
    }
}
