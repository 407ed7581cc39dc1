using System.Security.Cryptography;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Numerics;
using CsCheck;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Merkle;
using Clearhouse.Core.Tests.Engine;

namespace Clearhouse.Core.Tests.Merkle;

public class StateTreeTests
{
    [Fact]
    public void A_two_leaf_tree_hashes_leaves_and_nodes_with_distinct_prefixes()
    {
        byte[] a = [1, 2, 3];
        byte[] b = [4];
        byte[] leafA = SHA256.HashData([0x00, .. a]);
        byte[] leafB = SHA256.HashData([0x00, .. b]);
        byte[] expected = SHA256.HashData([0x01, .. leafA, .. leafB]);
        Assert.Equal(expected, MerkleTree.RootOf([a, b]));
    }

    [Fact]
    public void Every_proof_of_a_tree_folds_to_its_root_and_a_wrong_index_does_not()
    {
        var tree = new MerkleTree(2);
        var leaves = Enumerable.Range(0, 37).Select(i => BitConverter.GetBytes(i * 7919)).ToArray();
        for (int i = 0; i < leaves.Length; i++)
        {
            tree.SetLeaf(i, leaves[i]);
        }

        byte[] root = tree.ComputeRoot();
        Assert.Equal(64, tree.Capacity);
        for (int i = 0; i < leaves.Length; i++)
        {
            var proof = tree.Proof(i);
            Assert.Equal(root, MerkleTree.RootFromProof(MerkleTree.HashLeaf(leaves[i]), i, proof));
            Assert.NotEqual(root, MerkleTree.RootFromProof(MerkleTree.HashLeaf(leaves[i]), i ^ 1, proof));
        }
    }

    [Fact]
    public void The_incremental_root_equals_the_root_computed_from_scratch_over_random_streams()
    {
        EngineProperties.StreamGen.Sample(steps =>
        {
            var driver = new EngineProperties.Driver();
            var tree = new StateTree();
            tree.Update(driver.Fast);
            foreach (var chunk in steps.Chunk(97))
            {
                driver.Run(chunk, checkEveryCommand: false, requireActivity: false);
                Assert.Equal(StateTree.ComputeFromScratch(driver.Fast), tree.Update(driver.Fast));
            }
        }, iter: 6, threads: 1);
    }

    [Fact]
    public void Every_account_proof_verifies_and_any_change_to_balance_position_or_path_breaks_it()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual();
        int alice = venue.NewAccount(50_000m);
        int bob = venue.NewAccount(70_000m);
        int carol = venue.NewAccount(1_000m);
        venue.Buy(alice, btc, 100_000m, 0.2m);
        venue.Sell(bob, btc, 100_000m, 0.1m);
        venue.Sell(bob, btc, 101_000m, 0.1m);

        var tree = new StateTree();
        tree.Update(venue.Engine);
        foreach (int account in new[] { alice, bob, carol })
        {
            var proof = tree.Prove(account, blockHeight: 7)!;
            Assert.True(proof.Verify(out string? failure), failure);
        }

        var bobs = tree.Prove(bob)!;
        var leaf = StateLeaves.DecodeAccount(bobs.Leaf);
        Assert.Equal(bob, leaf.AccountId);
        Assert.Equal(venue.Cash(bob).Micros, leaf.CashMicros);
        Assert.Equal(-10_000_000, Assert.Single(leaf.Positions).SizeUnits);
        Assert.Equal(bobs.Leaf, StateLeaves.EncodeAccount(leaf));

        // A richer balance, a smaller short, a different path node, a wrong account id, another root: all fail.
        Assert.False((bobs with { Leaf = StateLeaves.EncodeAccount(leaf with { CashMicros = leaf.CashMicros + 1 }) }).Verify());
        Assert.False((bobs with { Leaf = StateLeaves.EncodeAccount(leaf with { Positions = [leaf.Positions[0] with { SizeUnits = -1 }] }) }).Verify());
        var siblings = bobs.Siblings.Select(s => s.ToArray()).ToArray();
        siblings[3][0] ^= 1;
        Assert.False((bobs with { Siblings = siblings }).Verify());
        Assert.False((bobs with { AccountId = alice }).Verify());
        var venueRoot = bobs.VenueRoot.ToArray();
        venueRoot[31] ^= 0x80;
        Assert.False((bobs with { VenueRoot = venueRoot }).Verify());
        Assert.Null(tree.Prove(99));
    }

    [Fact]
    public void An_index_move_changes_the_root_but_rehashes_no_account()
    {
        var venue = new Venue();
        venue.ListBtcPerpetual();
        venue.NewAccount(1_000m);
        var tree = new StateTree();
        byte[] before = tree.Update(venue.Engine);
        var accountsRoot = tree.AccountsRoot;
        venue.SetIndex("BTC", 90_000m);
        Assert.NotEqual(before, tree.Update(venue.Engine));
        Assert.Equal(accountsRoot, tree.AccountsRoot);
    }

    [Fact]
    public void Block_headers_round_trip_and_chain_by_hash()
    {
        var first = new BlockHeader(1, BlockHeader.GenesisPreviousHash, 1, 10, 10, MerkleTree.RootOf([[1]]), new byte[32], 1_000);
        var second = new BlockHeader(2, first.Hash(), 11, 12, 2, MerkleTree.RootOf([[2], [3]]), new byte[32], 2_000);
        var decoded = BlockHeader.Decode(second.Encode());
        Assert.Equal(second.Encode(), decoded.Encode());
        Assert.Equal(first.Hash(), decoded.PreviousHash);
        Assert.NotEqual(first.Hash(), second.Hash());
    }
}

public class AccountProofDocumentTests
{
    private static (AccountProofDocument Document, BlockHeader Header) ProofOfBob(Action<Venue, int, int>? beforeTrading = null)
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual();
        int alice = venue.NewAccount(50_000m);
        int bob = venue.NewAccount(70_000m);
        beforeTrading?.Invoke(venue, btc, bob);
        venue.Buy(alice, btc, 100_000m, 0.2m);
        venue.Sell(bob, btc, 100_000m, 0.1m);
        var tree = new StateTree();
        byte[] root = tree.Update(venue.Engine);
        var header = new BlockHeader(3, new byte[32], 1, venue.Engine.LastSequence, 9, new byte[32], root, venue.Engine.LastTimestampMicros);
        return (AccountProofDocument.From(tree.Prove(bob, 3)!, header), header);
    }

    [Fact]
    public void A_proof_written_as_json_verifies_offline()
    {
        var (document, header) = ProofOfBob();
        var read = AccountProofDocument.FromJson(document.ToJson());
        Assert.True(read.Verify(out string? failure), failure);
        Assert.Equal("79995", read.Account.Cash.Split('.')[0]);
        Assert.Equal("-0.1", Assert.Single(read.Account.Positions).Size);
        Assert.Equal(Convert.ToHexStringLower(header.Hash()), read.BlockHash);
    }

    [Fact]
    public void A_proof_of_an_account_on_portfolio_margin_with_an_isolated_position_verifies_and_shows_both()
    {
        // The leaf carries the margin mode and each position's isolation and collateral; a document
        // that left them out could never match its own leaf bytes.
        string json = ProofOfBob((venue, btc, bob) =>
        {
            venue.Accept(new SetMarginMode(bob, Clearhouse.Core.Margin.MarginMode.Portfolio));
            venue.Accept(new SetIsolatedMargin(bob, btc, true));
        }).Document.ToJson();

        var read = AccountProofDocument.FromJson(json);
        Assert.True(read.Verify(out string? failure), failure);
        Assert.Equal("portfolio", read.Account.MarginMode);
        var position = Assert.Single(read.Account.Positions);
        Assert.True(position.Isolated);
        Assert.True(decimal.Parse(position.IsolatedCash!, System.Globalization.CultureInfo.InvariantCulture) > 0);

        read.Account.MarginMode = null;
        Assert.False(read.Verify(out _));
        read = AccountProofDocument.FromJson(json);
        read.Account.Positions[0].Isolated = null;
        Assert.False(read.Verify(out _));
        read = AccountProofDocument.FromJson(json);
        read.Account.Positions[0].IsolatedCash = "1";
        Assert.False(read.Verify(out _));

        // An ordinary account's proof reads as it always did: no margin mode, no isolation fields.
        string ordinary = ProofOfBob().Document.ToJson();
        Assert.DoesNotContain("marginMode", ordinary, StringComparison.Ordinal);
        Assert.DoesNotContain("isolated", ordinary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cash")]
    [InlineData("size")]
    [InlineData("path")]
    [InlineData("leaf")]
    [InlineData("stateRoot")]
    [InlineData("blockHeader")]
    public void Editing_any_part_of_a_proof_makes_it_fail(string part)
    {
        var (document, _) = ProofOfBob();
        var edited = AccountProofDocument.FromJson(document.ToJson());
        switch (part)
        {
            case "cash":
                edited.Account.Cash = "1000000";
                break;
            case "size":
                edited.Account.Positions[0].Size = "-0.01";
                break;
            case "path":
                edited.Path[0] = new string('0', 64);
                break;
            case "leaf":
                edited.Leaf = edited.Leaf[..^2] + (edited.Leaf[^2..] == "00" ? "01" : "00");
                break;
            case "stateRoot":
                edited.StateRoot = new string('a', 64);
                break;
            case "blockHeader":
                var header = BlockHeader.Decode(Convert.FromHexString(edited.BlockHeader!));
                edited.BlockHeader = Convert.ToHexStringLower((header with { StateRoot = new byte[32] }).Encode());
                break;
        }

        Assert.False(edited.Verify(out string? failure));
        Assert.False(string.IsNullOrEmpty(failure));
    }

    [Fact]
    public void A_proof_with_malformed_numbers_is_refused_with_a_reason()
    {
        var (document, _) = ProofOfBob();
        document.Account.Cash = "not a number";
        Assert.False(document.Verify(out string? failure));
        Assert.Contains("Malformed", failure);
    }
}
