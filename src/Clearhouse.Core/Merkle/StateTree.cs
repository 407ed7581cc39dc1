namespace Clearhouse.Core.Merkle;

/// <summary>
/// The state root: a Merkle commitment to the whole engine state that anyone can check one
/// account against. Three subtrees are joined under one root:
/// <code>
/// stateRoot = SHA-256(0x02 ‖ venueRoot ‖ instrumentsRoot ‖ accountsRoot)
/// venueRoot       = tree over [venue counters and indexes, fee account, insurance fund]
/// instrumentsRoot = tree over instrument leaves, leaf i−1 = instrument i
/// accountsRoot    = tree over account leaves,    leaf i−1 = account i
/// </code>
/// <see cref="Update"/> is incremental: it rehashes only the accounts and instruments the engine
/// marked as changed since the previous update (plus the three small venue leaves), so sealing a
/// block costs far less than processing it. <see cref="ComputeFromScratch"/> is the slow
/// reference that tests compare it with.
/// </summary>
public sealed class StateTree
{
    private readonly MerkleTree venue = new(4);
    private readonly MerkleTree instruments = new(16);
    private readonly MerkleTree accounts = new(1024);
    private readonly List<byte[]> accountLeaves = [];

    /// <summary>The root after the last <see cref="Update"/>.</summary>
    public byte[] Root { get; private set; } = new byte[MerkleTree.HashSize];

    public byte[] VenueRoot { get; private set; } = new byte[MerkleTree.HashSize];

    public byte[] InstrumentsRoot { get; private set; } = new byte[MerkleTree.HashSize];

    public byte[] AccountsRoot { get; private set; } = new byte[MerkleTree.HashSize];

    /// <summary>Brings the tree up to the engine's current state and returns the state root.</summary>
    public byte[] Update(Engine.Engine engine)
    {
        venue.SetLeaf(0, StateLeaves.Venue(engine));
        venue.SetLeaf(1, StateLeaves.FeeAccount(engine));
        venue.SetLeaf(2, StateLeaves.InsuranceFund(engine));

        foreach (int id in engine.DrainDirtyInstruments())
        {
            instruments.SetLeaf(id - 1, StateLeaves.Instrument(engine.Instruments[id - 1]));
        }

        int[] dirtyAccounts = engine.DrainDirtyAccounts();
        var ordersByAccount = dirtyAccounts.Length > 0 ? OpenOrdersByAccount(engine) : null;
        foreach (int id in dirtyAccounts)
        {
            engine.TryGetAccount(id, out var account);
            var leaf = StateLeaves.Account(engine, account, ordersByAccount!.TryGetValue(id, out var orders) ? orders : []);
            while (accountLeaves.Count < id)
            {
                accountLeaves.Add([]);
            }

            accountLeaves[id - 1] = leaf;
            accounts.SetLeaf(id - 1, leaf);
        }

        VenueRoot = venue.ComputeRoot();
        InstrumentsRoot = instruments.ComputeRoot();
        AccountsRoot = accounts.ComputeRoot();
        Root = CombineRoots(VenueRoot, InstrumentsRoot, AccountsRoot);
        return Root;
    }

    /// <summary>
    /// An inclusion proof of one account's leaf against <see cref="Root"/> as of the last
    /// <see cref="Update"/>; null for an unknown account.
    /// </summary>
    public AccountProof? Prove(int accountId, long blockHeight = 0)
    {
        if (accountId < 1 || accountId > accountLeaves.Count || accountLeaves[accountId - 1].Length == 0)
        {
            return null;
        }

        return new AccountProof(blockHeight, accountId, accountLeaves[accountId - 1], accounts.Proof(accountId - 1), VenueRoot, InstrumentsRoot, Root);
    }

    /// <summary>The same root computed from nothing: every leaf hashed afresh. Does not touch the engine's dirty sets.</summary>
    public static byte[] ComputeFromScratch(Engine.Engine engine)
    {
        var venueTree = new MerkleTree(4);
        venueTree.SetLeaf(0, StateLeaves.Venue(engine));
        venueTree.SetLeaf(1, StateLeaves.FeeAccount(engine));
        venueTree.SetLeaf(2, StateLeaves.InsuranceFund(engine));
        var instrumentTree = new MerkleTree(16);
        foreach (var instrument in engine.Instruments)
        {
            instrumentTree.SetLeaf(instrument.Id - 1, StateLeaves.Instrument(instrument));
        }

        var accountTree = new MerkleTree(1024);
        for (int id = 1; id <= engine.AccountCount; id++)
        {
            engine.TryGetAccount(id, out var account);
            accountTree.SetLeaf(id - 1, StateLeaves.Account(engine, account));
        }

        return CombineRoots(venueTree.ComputeRoot(), instrumentTree.ComputeRoot(), accountTree.ComputeRoot());
    }

    /// <summary>Every account's open orders, by instrument id then priority: one pass over the books, not one per account.</summary>
    private static Dictionary<int, List<Matching.RestingOrder>> OpenOrdersByAccount(Engine.Engine engine)
    {
        var result = new Dictionary<int, List<Matching.RestingOrder>>();
        foreach (var instrument in engine.Instruments)
        {
            foreach (var order in instrument.Book.OrdersInPriority())
            {
                if (!result.TryGetValue(order.AccountId, out var list))
                {
                    result[order.AccountId] = list = [];
                }

                list.Add(order);
            }
        }

        return result;
    }

    public static byte[] CombineRoots(ReadOnlySpan<byte> venueRoot, ReadOnlySpan<byte> instrumentsRoot, ReadOnlySpan<byte> accountsRoot)
    {
        Span<byte> input = stackalloc byte[1 + (3 * MerkleTree.HashSize)];
        input[0] = 0x02;
        venueRoot.CopyTo(input[1..]);
        instrumentsRoot.CopyTo(input[(1 + MerkleTree.HashSize)..]);
        accountsRoot.CopyTo(input[(1 + (2 * MerkleTree.HashSize))..]);
        return System.Security.Cryptography.SHA256.HashData(input);
    }
}

/// <summary>
/// Proof that an account's leaf (collateral, positions, open-order commitment) is part of a
/// state root: the leaf bytes, its sibling path in the accounts subtree, and the two other
/// subtree roots. Checkable offline with <see cref="Verify()"/>; nothing else is needed.
/// </summary>
public sealed record AccountProof(long BlockHeight, int AccountId, byte[] Leaf, byte[][] Siblings, byte[] VenueRoot, byte[] InstrumentsRoot, byte[] StateRoot)
{
    /// <summary>True when the leaf is account <see cref="AccountId"/>'s and folds up to <see cref="StateRoot"/>.</summary>
    public bool Verify() => Verify(out _);

    public bool Verify(out string? failure)
    {
        try
        {
            var decoded = StateLeaves.DecodeAccount(Leaf);
            if (decoded.AccountId != AccountId)
            {
                failure = $"The leaf is account {decoded.AccountId}'s, not {AccountId}'s.";
                return false;
            }

            var accountsRoot = MerkleTree.RootFromProof(MerkleTree.HashLeaf(Leaf), AccountId - 1, Siblings);
            var root = StateTree.CombineRoots(VenueRoot, InstrumentsRoot, accountsRoot);
            if (!root.AsSpan().SequenceEqual(StateRoot))
            {
                failure = "The leaf and path do not hash to the state root.";
                return false;
            }

            failure = null;
            return true;
        }
        catch (FormatException ex)
        {
            failure = ex.Message;
            return false;
        }
    }
}
