using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Merkle;

/// <summary>
/// The JSON form of an account proof, written by <c>clearhouse prove</c> and the server and
/// checked offline by <c>clearhouse verify-proof</c>. It carries the human-readable account fields
/// <em>and</em> the exact leaf bytes; verification requires both to agree, the leaf to fold up to
/// the state root, and (when present) the block header to name that state root. Nothing else —
/// no access to the venue — is needed.
/// </summary>
public sealed class AccountProofDocument
{
    public const string CurrentVersion = "clearhouse/account-proof/v1";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Version { get; set; } = CurrentVersion;

    public long BlockHeight { get; set; }

    /// <summary>Hex of the block hash (SHA-256 of the header), for comparison with the venue's published chain.</summary>
    public string? BlockHash { get; set; }

    /// <summary>Hex of the canonical block header, when the proof is against a sealed block.</summary>
    public string? BlockHeader { get; set; }

    public string StateRoot { get; set; } = "";

    public string VenueRoot { get; set; } = "";

    public string InstrumentsRoot { get; set; } = "";

    public ProofAccount Account { get; set; } = new();

    /// <summary>Hex of the account leaf bytes.</summary>
    public string Leaf { get; set; } = "";

    /// <summary>Hex sibling hashes from the leaf up to the accounts root.</summary>
    public List<string> Path { get; set; } = [];

    public static AccountProofDocument From(AccountProof proof, BlockHeader? header = null)
    {
        var leaf = StateLeaves.DecodeAccount(proof.Leaf);
        return new AccountProofDocument
        {
            BlockHeight = proof.BlockHeight,
            BlockHash = header is null ? null : Hex(header.Hash()),
            BlockHeader = header is null ? null : Hex(header.Encode()),
            StateRoot = Hex(proof.StateRoot),
            VenueRoot = Hex(proof.VenueRoot),
            InstrumentsRoot = Hex(proof.InstrumentsRoot),
            Account = ProofAccount.From(leaf),
            Leaf = Hex(proof.Leaf),
            Path = [.. proof.Siblings.Select(Hex)],
        };
    }

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static AccountProofDocument FromJson(string json) =>
        JsonSerializer.Deserialize<AccountProofDocument>(json, Options) ?? throw new FormatException("The proof file is empty.");

    /// <summary>Checks everything offline; <paramref name="failure"/> says what did not hold.</summary>
    public bool Verify(out string? failure)
    {
        try
        {
            if (Version != CurrentVersion)
            {
                failure = $"Unknown proof version '{Version}'.";
                return false;
            }

            byte[] leaf = Convert.FromHexString(Leaf);
            if (!StateLeaves.EncodeAccount(Account.ToLeaf()).AsSpan().SequenceEqual(leaf))
            {
                failure = "The account fields shown do not match the proven leaf bytes.";
                return false;
            }

            var proof = new AccountProof(BlockHeight, Account.Id, leaf, [.. Path.Select(Convert.FromHexString)], Convert.FromHexString(VenueRoot), Convert.FromHexString(InstrumentsRoot), Convert.FromHexString(StateRoot));
            if (!proof.Verify(out failure))
            {
                return false;
            }

            if (BlockHeader is not null)
            {
                var header = Merkle.BlockHeader.Decode(Convert.FromHexString(BlockHeader));
                if (header.Height != BlockHeight || !header.StateRoot.AsSpan().SequenceEqual(proof.StateRoot))
                {
                    failure = "The block header does not carry this proof's height and state root.";
                    return false;
                }

                if (BlockHash is not null && !string.Equals(BlockHash, Hex(header.Hash()), StringComparison.OrdinalIgnoreCase))
                {
                    failure = "The block hash does not match the block header.";
                    return false;
                }
            }

            failure = null;
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            failure = "Malformed proof: " + ex.Message;
            return false;
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}

/// <summary>An account leaf's fields as decimals people can read (exact: fixed-point in text).</summary>
public sealed class ProofAccount
{
    public int Id { get; set; }

    public string Cash { get; set; } = "0";

    public int OpenOrderCount { get; set; }

    public List<ProofPosition> Positions { get; set; } = [];

    public string OpenOrdersCommitment { get; set; } = "";

    /// <summary>
    /// <c>"portfolio"</c> for an account on portfolio margin; absent (null) on standard margin, so
    /// that the proof of an ordinary account reads as it always did. Part of the leaf: a proof that
    /// left it out could not be checked against the leaf bytes.
    /// </summary>
    public string? MarginMode { get; set; }

    internal static ProofAccount From(AccountLeaf leaf) => new()
    {
        Id = leaf.AccountId,
        Cash = new Money(leaf.CashMicros).ToString(),
        OpenOrderCount = leaf.OpenOrderCount,
        Positions = [.. leaf.Positions.Select(ProofPosition.From)],
        OpenOrdersCommitment = Convert.ToHexStringLower(leaf.OpenOrdersCommitment),
        MarginMode = leaf.MarginMode switch
        {
            (byte)Margin.MarginMode.Standard => null,
            (byte)Margin.MarginMode.Portfolio => "portfolio",
            _ => throw new FormatException($"Unknown margin mode {leaf.MarginMode} in the account leaf."),
        },
    };

    internal AccountLeaf ToLeaf() => new(Id, Money.FromDecimal(Parse(Cash)).Micros, OpenOrderCount, [.. Positions.Select(p => p.ToLeaf())], Convert.FromHexString(OpenOrdersCommitment), MarginModeByte());

    private byte MarginModeByte() => MarginMode switch
    {
        null or "standard" => (byte)Margin.MarginMode.Standard,
        "portfolio" => (byte)Margin.MarginMode.Portfolio,
        _ => throw new FormatException($"'{MarginMode}' is not a margin mode: standard or portfolio."),
    };

    internal static decimal Parse(string text) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value)
            ? value
            : throw new FormatException($"'{text}' is not a decimal number.");
}

/// <summary>One position in a proof, in decimal units.</summary>
public sealed class ProofPosition
{
    public int InstrumentId { get; set; }

    public string Size { get; set; } = "0";

    public string OpenCost { get; set; } = "0";

    public string RealizedPnl { get; set; } = "0";

    public string OpenBuy { get; set; } = "0";

    public string OpenSell { get; set; } = "0";

    public string OpenBuyNotional { get; set; } = "0";

    public string OpenSellNotional { get; set; } = "0";

    public int OpenOrderCount { get; set; }

    public string ReduceOnlyOpen { get; set; } = "0";

    /// <summary>True for an isolated position; absent (null) for a cross one.</summary>
    public bool? Isolated { get; set; }

    /// <summary>The collateral set aside for an isolated position (USDC); absent when there is none.</summary>
    public string? IsolatedCash { get; set; }

    internal static ProofPosition From(AccountLeafPosition p) => new()
    {
        Isolated = p.Isolated ? true : null,
        IsolatedCash = p.Isolated || p.IsolatedCashMicros != 0 ? new Money(p.IsolatedCashMicros).ToString() : null,
        InstrumentId = p.InstrumentId,
        Size = new Quantity(p.SizeUnits).ToString(),
        OpenCost = new Money(p.OpenCostMicros).ToString(),
        RealizedPnl = new Money(p.RealizedPnlMicros).ToString(),
        OpenBuy = new Quantity(p.OpenBuyUnits).ToString(),
        OpenSell = new Quantity(p.OpenSellUnits).ToString(),
        OpenBuyNotional = new Money(p.OpenBuyNotionalMicros).ToString(),
        OpenSellNotional = new Money(p.OpenSellNotionalMicros).ToString(),
        OpenOrderCount = p.OpenOrderCount,
        ReduceOnlyOpen = new Quantity(p.ReduceOnlyUnits).ToString(),
    };

    internal AccountLeafPosition ToLeaf() => new(
        InstrumentId,
        Quantity.FromDecimal(ProofAccount.Parse(Size)).Units,
        Money.FromDecimal(ProofAccount.Parse(OpenCost)).Micros,
        Money.FromDecimal(ProofAccount.Parse(RealizedPnl)).Micros,
        Quantity.FromDecimal(ProofAccount.Parse(OpenBuy)).Units,
        Quantity.FromDecimal(ProofAccount.Parse(OpenSell)).Units,
        Money.FromDecimal(ProofAccount.Parse(OpenBuyNotional)).Micros,
        Money.FromDecimal(ProofAccount.Parse(OpenSellNotional)).Micros,
        OpenOrderCount,
        Quantity.FromDecimal(ProofAccount.Parse(ReduceOnlyOpen)).Units,
        Isolated ?? false,
        IsolatedCash is null ? 0 : Money.FromDecimal(ProofAccount.Parse(IsolatedCash)).Micros);
}
