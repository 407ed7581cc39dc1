using System.Diagnostics;
using System.Text.Json.Nodes;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Merkle;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Cli.Tests;

public class VerifyTests
{
    [Fact]
    public void Verify_replays_an_honest_journal_and_finds_every_stored_block_equal()
    {
        using var venue = VenueFixture.Create();

        var run = CliRun.Of("verify", "--data", venue.DataDirectory, "--progress-every", "10");

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains($"{venue.Headers.Count} blocks (heights 1..{venue.Headers.Count})", run.Output);
        Assert.Contains("  block         10  sequence", run.Output);
        Assert.Contains(Convert.ToHexStringLower(venue.Headers[^1].StateRoot), run.Output);
        Assert.Contains("OK: the journal reproduces every stored block.", run.Output);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public void The_journal_alias_and_a_journal_directory_are_accepted()
    {
        using var venue = VenueFixture.Create(commands: 500);

        Assert.Equal(ExitCodes.Ok, CliRun.Of("verify", "--journal", venue.DataDirectory).ExitCode);
        var run = CliRun.Of("verify", "--journal", venue.JournalDirectory);
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains("each equal to its stored header", run.Output);
    }

    [Fact]
    public void A_flipped_state_root_in_a_stored_header_fails_naming_that_block()
    {
        using var venue = VenueFixture.Create();
        var victim = venue.Headers.Count / 2;
        venue.RewriteHeaders(h => h.Height != victim ? h : h with { StateRoot = Flip(h.StateRoot) });

        var run = CliRun.Of("verify", "--data", venue.DataDirectory);

        Assert.True(run.ExitCode == ExitCodes.CheckFailed, run.ToString());
        Assert.Contains($"FAILED at block {victim}: block {victim} ", run.Output);
        Assert.Contains($"state root stored {Convert.ToHexStringLower(Flip(venue.Headers[victim - 1].StateRoot))}, derived {Convert.ToHexStringLower(venue.Headers[victim - 1].StateRoot)}", run.Output);
        Assert.DoesNotContain("commands root", run.Output);
        Assert.Contains($"Blocks 1..{victim - 1} matched before it.", run.Output);
    }

    [Fact]
    public void A_re_framed_journal_record_with_a_valid_crc_but_an_edited_deposit_fails_naming_its_block()
    {
        using var venue = VenueFixture.Create();
        var target = venue.Commands.OfType<Deposit>().First(d => d.Sequence > 1_000);
        venue.RewriteJournal((command, bytes) => command != target ? bytes
            : CommandCodec.Encode(target with { Amount = target.Amount + Money.FromWhole(1_000_000) }));

        var run = CliRun.Of("verify", "--data", venue.DataDirectory);

        var block = venue.BlockOf(target.Sequence);
        Assert.True(run.ExitCode == ExitCodes.CheckFailed, run.ToString());
        Assert.Contains($"FAILED at block {block}: block {block} (sequences", run.Output);
        Assert.Contains("commands root stored", run.Output);
        Assert.Contains("state root stored", run.Output);
    }

    [Fact]
    public void A_re_framed_record_that_does_not_decode_fails_naming_its_block()
    {
        using var venue = VenueFixture.Create();
        var target = venue.Commands[1_000];
        venue.RewriteJournal((command, bytes) => command != target ? bytes : [0xEE, .. bytes.AsSpan(1)]);

        var run = CliRun.Of("verify", "--data", venue.DataDirectory);

        Assert.True(run.ExitCode == ExitCodes.CheckFailed, run.ToString());
        Assert.Contains($"FAILED at block {venue.BlockOf(target.Sequence)}: block {venue.BlockOf(target.Sequence)}: the journal record of sequence {target.Sequence:N0} does not decode", run.Output);
    }

    [Fact]
    public void A_stored_header_for_commands_missing_from_the_journal_fails()
    {
        using var venue = VenueFixture.Create();
        var keep = venue.Headers[^3].LastSequence; // the last two stored blocks lose their commands
        venue.Commands.RemoveAll(c => c.Sequence > keep);
        venue.RewriteJournal((_, bytes) => bytes);

        var run = CliRun.Of("verify", "--data", venue.DataDirectory);

        Assert.True(run.ExitCode == ExitCodes.CheckFailed, run.ToString());
        Assert.Contains($"block {venue.Headers[^2].Height} is stored for sequences", run.Output);
        Assert.Contains("missing from the journal", run.Output);
    }

    [Fact]
    public void Another_block_rule_than_the_servers_is_reported_as_a_mismatch_at_block_one()
    {
        using var venue = VenueFixture.Create(commands: 500);

        var run = CliRun.Of("verify", "--data", venue.DataDirectory, "--block-max-commands", "7");

        Assert.Equal(ExitCodes.CheckFailed, run.ExitCode);
        Assert.Contains("FAILED at block 1:", run.Output);
    }

    [Fact]
    public void A_journal_without_stored_headers_prints_the_derived_blocks_and_roots()
    {
        using var venue = VenueFixture.Create(commands: 600, storeHeaders: false);

        var run = CliRun.Of("verify", "--data", venue.DataDirectory);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains($"derived block 1: sequences 1..{venue.Headers[0].LastSequence}", run.Output);
        foreach (var header in venue.Headers)
        {
            Assert.Contains(Convert.ToHexStringLower(header.StateRoot), run.Output);
        }

        Assert.Contains($"Open block {venue.Headers.Count + 1}:", run.Output);
        Assert.Contains($"state root now {Convert.ToHexStringLower(StateTree.ComputeFromScratch(venue.Engine))}", run.Output);
        Assert.Contains("OK: the journal replays cleanly", run.Output);
    }

    [Fact]
    public void A_torn_final_record_is_reported_and_ignored_without_touching_the_files()
    {
        using var venue = VenueFixture.Create(commands: 800);
        var last = Directory.GetFiles(venue.JournalDirectory, "*.seg").Max()!;
        var length = new FileInfo(last).Length;
        using (var file = File.Open(last, FileMode.Open))
        {
            file.SetLength(length - 3);
        }

        var run = CliRun.Of("verify", "--data", venue.DataDirectory);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains("note: ", run.Output);
        Assert.Contains("torn record", run.Output);
        Assert.Equal(length - 3, new FileInfo(last).Length);
    }

    [Fact]
    public void A_bit_flip_inside_the_journal_is_refused_in_one_line_naming_file_and_offset()
    {
        using var venue = VenueFixture.Create();
        var segment = Directory.GetFiles(venue.JournalDirectory, "*.seg").Order().First();
        using (var file = File.Open(segment, FileMode.Open))
        {
            file.Position = 1_000;
            var value = file.ReadByte();
            file.Position = 1_000;
            file.WriteByte((byte)(value ^ 0x10));
        }

        var run = CliRun.Of("verify", "--data", venue.DataDirectory);

        Assert.Equal(ExitCodes.CannotRun, run.ExitCode);
        Assert.StartsWith("error: Journal corrupted: '", run.Error);
        Assert.Contains(segment, run.Error);
        Assert.Contains("byte offset", run.Error);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void Missing_directories_and_arguments_give_one_line_errors()
    {
        var missing = CliRun.Of("verify", "--data", Path.Combine(Path.GetTempPath(), "clearhouse-no-such-dir"));
        Assert.Equal(ExitCodes.CannotRun, missing.ExitCode);
        Assert.StartsWith("error: No such directory", missing.Error);

        var empty = Directory.CreateTempSubdirectory("clearhouse-cli-empty");
        try
        {
            var none = CliRun.Of("verify", "--data", empty.FullName);
            Assert.Equal(ExitCodes.CannotRun, none.ExitCode);
            Assert.Contains("holds no journal", none.Error);
        }
        finally
        {
            empty.Delete();
        }

        var usage = CliRun.Of("verify");
        Assert.Equal(ExitCodes.CannotRun, usage.ExitCode);
        Assert.Contains("--data", usage.Error);
    }

    [Fact]
    public void Replay_prints_the_final_state_hash_and_root()
    {
        using var venue = VenueFixture.Create(commands: 1_000);

        var run = CliRun.Of("replay", "--data", venue.DataDirectory);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains(venue.Engine.ComputeStateHashHex(), run.Output);
        Assert.Contains(Convert.ToHexStringLower(StateTree.ComputeFromScratch(venue.Engine)), run.Output);
    }

    internal static byte[] Flip(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        copy[0] ^= 0x01;
        return copy;
    }
}

public class ProofTests
{
    [Fact]
    public void A_proof_written_by_prove_verifies_offline()
    {
        using var venue = VenueFixture.Create();
        var file = Path.Combine(venue.DataDirectory, "proof-3.json");

        var prove = CliRun.Of("prove", "--account", "3", "--data", venue.DataDirectory, "--out", file);
        Assert.True(prove.ExitCode == ExitCodes.Ok, prove.ToString());
        Assert.Contains($"against block {venue.Headers.Count}", prove.Error);

        var check = CliRun.Of("verify-proof", file);
        Assert.True(check.ExitCode == ExitCodes.Ok, check.ToString());
        Assert.Contains("Account 3", check.Output);
        Assert.Contains($"Block {venue.Headers.Count}, hash {Convert.ToHexStringLower(venue.Headers[^1].Hash())}", check.Output);
        Assert.Contains($"State root {Convert.ToHexStringLower(venue.Headers[^1].StateRoot)}", check.Output);
        Assert.EndsWith("VALID" + Environment.NewLine, check.Output);
    }

    [Fact]
    public void Prove_against_an_earlier_block_to_standard_output_carries_that_blocks_header()
    {
        using var venue = VenueFixture.Create();
        var block = venue.Headers[9];

        var prove = CliRun.Of("prove", "-a", "5", "-b", "10", "-d", venue.DataDirectory);

        Assert.True(prove.ExitCode == ExitCodes.Ok, prove.ToString());
        var document = AccountProofDocument.FromJson(prove.Output);
        Assert.Equal(10, document.BlockHeight);
        Assert.Equal(Convert.ToHexStringLower(block.StateRoot), document.StateRoot);
        Assert.Equal(Convert.ToHexStringLower(block.Encode()), document.BlockHeader);
        Assert.True(document.Verify(out var failure), failure);
    }

    [Fact]
    public void Editing_the_cash_in_a_proof_makes_it_invalid()
    {
        using var venue = VenueFixture.Create();
        var file = Path.Combine(venue.DataDirectory, "proof.json");
        Assert.Equal(ExitCodes.Ok, CliRun.Of("prove", "--account", "2", "--data", venue.DataDirectory, "--out", file).ExitCode);
        var json = JsonNode.Parse(File.ReadAllText(file))!;
        var cash = decimal.Parse(json["account"]!["cash"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        json["account"]!["cash"] = (cash + 1_000m).ToString(System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(file, json.ToJsonString());

        var check = CliRun.Of("verify-proof", file);

        Assert.Equal(ExitCodes.CheckFailed, check.ExitCode);
        Assert.Contains("INVALID: The account fields shown do not match the proven leaf bytes.", check.Output);
    }

    [Fact]
    public void A_proof_whose_state_root_was_swapped_for_another_blocks_is_invalid()
    {
        using var venue = VenueFixture.Create();
        var file = Path.Combine(venue.DataDirectory, "proof.json");
        Assert.Equal(ExitCodes.Ok, CliRun.Of("prove", "--account", "2", "--data", venue.DataDirectory, "--out", file).ExitCode);
        var json = JsonNode.Parse(File.ReadAllText(file))!;
        json["stateRoot"] = Convert.ToHexStringLower(venue.Headers[0].StateRoot);
        File.WriteAllText(file, json.ToJsonString());

        var check = CliRun.Of("verify-proof", file);

        Assert.Equal(ExitCodes.CheckFailed, check.ExitCode);
        Assert.Contains("INVALID: ", check.Output);
    }

    [Fact]
    public void Garbage_instead_of_a_proof_is_invalid_and_a_missing_file_cannot_be_checked()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "{ not json");
            var garbage = CliRun.Of("verify-proof", file);
            Assert.Equal(ExitCodes.CheckFailed, garbage.ExitCode);
            Assert.StartsWith("INVALID: not an account proof document", garbage.Output);
        }
        finally
        {
            File.Delete(file);
        }

        var missing = CliRun.Of("verify-proof", file);
        Assert.Equal(ExitCodes.CannotRun, missing.ExitCode);
        Assert.StartsWith("error: No such file", missing.Error);
    }

    [Fact]
    public void Prove_for_an_unknown_account_or_block_fails_cleanly()
    {
        using var venue = VenueFixture.Create(commands: 800);

        var account = CliRun.Of("prove", "--account", "9999", "--data", venue.DataDirectory);
        Assert.Equal(ExitCodes.CannotRun, account.ExitCode);
        Assert.Equal("", account.Output);
        Assert.Equal($"error: Account 9999 does not exist at block {venue.Headers.Count} (the venue had 20 accounts then).", account.Error.TrimEnd());

        var block = CliRun.Of("prove", "--account", "1", "--block", "100000", "--data", venue.DataDirectory);
        Assert.Equal(ExitCodes.CannotRun, block.ExitCode);
        Assert.Contains($"Block 100000 is not stored (stored blocks: 1..{venue.Headers.Count})", block.Error);
    }

    [Fact]
    public void Prove_refuses_when_the_journal_does_not_reproduce_the_chain()
    {
        using var venue = VenueFixture.Create();
        venue.RewriteHeaders(h => h.Height != 3 ? h : h with { StateRoot = VerifyTests.Flip(h.StateRoot) });

        var run = CliRun.Of("prove", "--account", "1", "--data", venue.DataDirectory);

        Assert.Equal(ExitCodes.CheckFailed, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.Contains("no proof is written: block 3", run.Error);
    }
}

/// <summary>The built <c>clearhouse.dll</c> run as a real process, as an operator would.</summary>
public class ProcessTests
{
    [Fact]
    public void The_clearhouse_process_verifies_proves_and_checks_a_proof_with_exit_codes()
    {
        using var venue = VenueFixture.Create();
        var proof = Path.Combine(venue.DataDirectory, "proof.json");

        var verify = Run("verify", "--data", venue.DataDirectory);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Contains("OK: the journal reproduces every stored block.", verify.Output);

        var prove = Run("prove", "--account", "4", "--data", venue.DataDirectory, "--out", proof);
        Assert.True(prove.ExitCode == 0, prove.ToString());

        var check = Run("verify-proof", proof);
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Contains("VALID", check.Output);

        venue.RewriteHeaders(h => h.Height != 2 ? h : h with { CommandsRoot = VerifyTests.Flip(h.CommandsRoot) });
        var failed = Run("verify", "--data", venue.DataDirectory);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("FAILED at block 2", failed.Output);

        var missing = Run("verify", "--data", Path.Combine(venue.DataDirectory, "nope"));
        Assert.Equal(2, missing.ExitCode);
        Assert.DoesNotContain("   at ", missing.Error);
    }

    private static CliRun Run(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "clearhouse.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "clearhouse did not finish within 60 s");
        return new CliRun(process.ExitCode, output.Result, error.Result);
    }
}
