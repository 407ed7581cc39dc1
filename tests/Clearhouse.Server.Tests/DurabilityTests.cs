using System.Buffers.Binary;
using System.Text.Json;
using Clearhouse.Core.Merkle;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;
using Clearhouse.Server.Durability;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The server on its data directory: restart from a snapshot plus the journal tail, damaged
/// journals (torn tail truncated, middle corruption refused), lost and tampered block headers,
/// the directory lock, and account proofs that verify offline against served blocks.
/// </summary>
public sealed class DurabilityTests
{
    private const long BlockIntervalMicros = 100_000;
    private static readonly string[] SmallBlocks = ["--BlockMillis", "100", "--TickMillis", "20"];

    [Fact]
    public async Task Restarted_from_a_snapshot_plus_the_journal_tail_the_server_reaches_the_state_of_a_replay_from_genesis()
    {
        string data = TemporaryDirectory.Create("restart");
        try
        {
            int accountId;
            string cash;
            long lastBefore;
            int instruments;
            await using (var first = await RunningServer.StartAsync(demo: false, ["--data-dir", data, "--SnapshotEveryCommands", "1", .. SmallBlocks]))
            {
                accountId = await first.OpenFundedAccountAsync("250000");
                await first.PlaceOkAsync(new { accountId, instrument = "BTC_USDC-PERPETUAL", side = "buy", price = "90000", amount = "0.5" });
                Assert.True(await RunningServer.EventuallyAsync(async () => (await first.GetOkAsync("/api/status")).GetProperty("lastSnapshot").ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(20)), "no snapshot was taken");
                await first.PostAsync($"/api/accounts/{accountId}/withdraw", new { amount = "1000" });
                cash = (await first.GetOkAsync($"/api/accounts/{accountId}")).GetProperty("cash").GetString()!;
                lastBefore = (await first.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64();
                instruments = (await first.GetOkAsync("/api/instruments")).GetArrayLength();
            }

            var model = new JournalModel(data, BlockIntervalMicros);
            model.CatchUp(JournalReader.Recover(DataLayout.JournalDirectory(data), truncateTornTail: false).LastSequence);
            await using var second = await RunningServer.StartAsync(demo: false, ["--data-dir", data, .. SmallBlocks]);
            var recovery = (await second.GetOkAsync("/api/status")).GetProperty("recovery");

            Assert.Equal(JsonValueKind.Number, recovery.GetProperty("snapshotSequence").ValueKind);
            Assert.True(recovery.GetProperty("recoveredSequence").GetInt64() >= lastBefore);
            model.AssertSameState(recovery);
            Assert.Equal(cash, (await second.GetOkAsync($"/api/accounts/{accountId}")).GetProperty("cash").GetString());
            Assert.Equal(instruments, (await second.GetOkAsync("/api/instruments")).GetArrayLength()); // genesis not repeated
            var deposit = await second.PostAsync($"/api/accounts/{accountId}/deposit", new { amount = "1" });
            Assert.True(deposit.Body.GetProperty("sequence").GetInt64() > recovery.GetProperty("recoveredSequence").GetInt64());
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task A_flipped_bit_in_a_middle_journal_record_makes_the_server_refuse_to_start_naming_the_file_and_offset()
    {
        string data = TemporaryDirectory.Create("corrupt");
        try
        {
            await using (var server = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0"))
            {
                await server.OpenFundedAccountAsync("1000");
            }

            string segment = Assert.Single(Directory.GetFiles(DataLayout.JournalDirectory(data), "*.seg"));
            var offsets = RecordOffsets(segment);
            Assert.True(offsets.Count > 5, "too few records to damage one in the middle");
            long offset = offsets[2];
            FlipBit(segment, offset + 20);

            var (exitCode, output) = await ServerProcess.RunToExitAsync(data, TimeSpan.FromSeconds(60));

            Assert.Equal(3, exitCode);
            Assert.Contains("refusing to start", output, StringComparison.Ordinal);
            Assert.Contains($"'{segment}' at byte offset {offset}", output, StringComparison.Ordinal);
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task A_torn_final_record_is_truncated_and_reported_and_the_server_serves_the_replayed_state()
    {
        string data = TemporaryDirectory.Create("torn");
        try
        {
            await using (var server = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0"))
            {
                await server.OpenFundedAccountAsync("1000");
            }

            // The start of a record that never finished: a header promising 60 bytes, and 7 of them.
            string segment = Assert.Single(Directory.GetFiles(DataLayout.JournalDirectory(data), "*.seg"));
            long goodLength = new FileInfo(segment).Length;
            long last = JournalReader.Recover(DataLayout.JournalDirectory(data), truncateTornTail: false).LastSequence;
            var torn = new byte[16 + 7];
            BinaryPrimitives.WriteUInt32LittleEndian(torn, 60);
            BinaryPrimitives.WriteInt64LittleEndian(torn.AsSpan(4), last + 1);
            using (var file = new FileStream(segment, FileMode.Append))
            {
                file.Write(torn);
            }

            await using var restarted = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0");
            var recovery = (await restarted.GetOkAsync("/api/status")).GetProperty("recovery");

            string report = recovery.GetProperty("journalTornTail").GetString()!;
            Assert.Contains($"byte offset {goodLength}", report, StringComparison.Ordinal);
            Assert.Contains("truncated", report, StringComparison.Ordinal);
            Assert.Equal(last, recovery.GetProperty("recoveredSequence").GetInt64());
            Assert.Equal(goodLength, new FileInfo(segment).Length);
            var model = new JournalModel(data);
            model.CatchUp(last);
            model.AssertSameState(recovery);
            Assert.Equal(201, (await restarted.SendAsync(HttpMethod.Post, "/api/accounts")).Status);
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task Block_headers_lost_before_they_reached_the_disk_are_re_derived_from_the_journal_and_a_tampered_one_refuses_the_start()
    {
        string data = TemporaryDirectory.Create("blocks");
        try
        {
            await using (var server = await RunningServer.StartAsync(demo: false, ["--data-dir", data, .. SmallBlocks]))
            {
                await server.OpenFundedAccountAsync("1000");
                Assert.True(await RunningServer.EventuallyAsync(async () => (await server.GetOkAsync("/api/status")).GetProperty("lastBlockHeight").GetInt64() >= 5, TimeSpan.FromSeconds(20)));
            }

            string log = Path.Combine(DataLayout.BlocksDirectory(data), BlockHeaderStore.FileName);
            var stored = BlockHeaderStore.ReadAll(log);
            var model = new JournalModel(data, BlockIntervalMicros);
            model.CatchUp(JournalReader.Recover(DataLayout.JournalDirectory(data), truncateTornTail: false).LastSequence);
            Assert.Equal(stored.Select(h => Convert.ToHexStringLower(h.Header)), model.Blocks.Select(h => Convert.ToHexStringLower(h.Encode())));

            // Lose the last two headers, as a crash between the journal's fsync and theirs would.
            RewriteBlockLog(data, stored.Take(stored.Count - 2).Select(h => BlockHeader.Decode(h.Header)));
            await using (var server = await RunningServer.StartAsync(demo: false, ["--data-dir", data, .. SmallBlocks]))
            {
                var recovery = (await server.GetOkAsync("/api/status")).GetProperty("recovery");
                Assert.Equal(2, recovery.GetProperty("blocksRederived").GetInt64());
                Assert.Equal(stored.Count - 2, recovery.GetProperty("blocksVerified").GetInt64());
                var header = BlockHeader.Decode(stored[^1].Header);
                var served = await server.GetOkAsync($"/api/blocks/{header.Height}");
                Assert.Equal(Convert.ToHexStringLower(header.Hash()), served.GetProperty("hash").GetString());
            }

            // A stored header whose state root the journal does not reproduce: refuse.
            var headers = BlockHeaderStore.ReadAll(log).Select(h => BlockHeader.Decode(h.Header)).ToList();
            var forged = headers[^1].StateRoot.ToArray();
            forged[0] ^= 1;
            headers[^1] = headers[^1] with { StateRoot = forged };
            RewriteBlockLog(data, headers);
            var refused = await Assert.ThrowsAsync<RecoveryRefusedException>(() => RunningServer.StartAsync(demo: false, ["--data-dir", data, .. SmallBlocks]));
            Assert.Contains($"Block {headers[^1].Height}", refused.Message, StringComparison.Ordinal);
            Assert.Contains("differs from the block the journal replay seals", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task A_second_server_on_the_same_data_directory_is_refused_while_the_first_runs()
    {
        string data = TemporaryDirectory.Create("lock");
        try
        {
            await using var first = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0");
            var refused = await Assert.ThrowsAsync<IOException>(() => RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0"));
            Assert.Contains("already open for writing", refused.Message, StringComparison.Ordinal);
            Assert.Equal(201, (await first.SendAsync(HttpMethod.Post, "/api/accounts")).Status);
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task An_account_proof_from_the_API_verifies_offline_against_a_served_block_and_the_blocks_are_those_a_replay_seals()
    {
        string data = TemporaryDirectory.Create("proof");
        try
        {
            List<JsonElement> served;
            await using (var server = await RunningServer.StartAsync(demo: false, ["--data-dir", data, .. SmallBlocks]))
            {
                int seller = await server.OpenFundedAccountAsync("100000");
                int buyer = await server.OpenFundedAccountAsync("100000");
                await server.PlaceOkAsync(new { accountId = seller, instrument = "BTC_USDC-PERPETUAL", side = "sell", price = "95000", amount = "0.2" });
                await server.PlaceOkAsync(new { accountId = buyer, instrument = "BTC_USDC-PERPETUAL", side = "buy", price = "95000", amount = "0.1" });
                long traded = (await server.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64();

                // The proof is against the latest sealed block: wait for one that includes the trade.
                AccountProofDocument? proof = null;
                Assert.True(await RunningServer.EventuallyAsync(async () =>
                {
                    using var response = await server.Http.GetAsync($"/api/accounts/{buyer}/proof");
                    if (!response.IsSuccessStatusCode)
                    {
                        return false;
                    }

                    proof = AccountProofDocument.FromJson(await response.Content.ReadAsStringAsync());
                    return BlockHeader.Decode(Convert.FromHexString(proof.BlockHeader!)).LastSequence >= traded;
                }, TimeSpan.FromSeconds(20)), "no proof against a block containing the trade");

                Assert.True(proof!.Verify(out string? failure), failure);
                Assert.Equal(buyer, proof.Account.Id);
                Assert.Equal("0.1", Assert.Single(proof.Account.Positions).Size);
                var block = await server.GetOkAsync($"/api/blocks/{proof.BlockHeight}");
                Assert.Equal(proof.StateRoot, block.GetProperty("stateRoot").GetString());
                Assert.Equal(proof.BlockHash, block.GetProperty("hash").GetString());
                Assert.Equal(proof.BlockHeader, block.GetProperty("header").GetString());

                // A richer balance does not verify.
                proof.Account.Cash = "1000000";
                Assert.False(proof.Verify(out _));

                var latest = await server.GetOkAsync("/api/blocks/latest");
                served = [.. (await server.GetOkAsync($"/api/blocks?from=1&limit={latest.GetProperty("height").GetInt64()}")).EnumerateArray()];
                Assert.Equal(latest.GetProperty("height").GetInt64(), served.Count);
                Assert.Equal((404, 910), await StatusAndCode(server, "/api/blocks/999999"));
                Assert.Equal((404, 200), await StatusAndCode(server, "/api/accounts/999999/proof"));
            }

            // Live roots = replay-from-genesis roots, block by block, chained.
            var model = new JournalModel(data, BlockIntervalMicros);
            model.CatchUp(JournalReader.Recover(DataLayout.JournalDirectory(data), truncateTornTail: false).LastSequence);
            model.AssertSameBlocks(served);
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task With_the_journal_off_the_server_runs_in_memory_and_still_seals_blocks()
    {
        await using var server = await RunningServer.StartAsync(demo: false, ["--journal", "false", .. SmallBlocks]);
        var status = await server.GetOkAsync("/api/status");
        Assert.False(status.GetProperty("journal").GetBoolean());
        Assert.True(status.GetProperty("recovery").GetProperty("inMemory").GetBoolean());
        Assert.True(await RunningServer.EventuallyAsync(async () => (await server.GetAsync("/api/blocks/latest")).Status == 200, TimeSpan.FromSeconds(20)));
        Assert.Null(server.Services.GetRequiredService<RecoveredVenue>().Journal);
    }

    [Fact]
    public async Task After_a_restart_the_demo_finds_its_accounts_again_and_quotes_every_book()
    {
        string data = TemporaryDirectory.Create("demo");
        try
        {
            string[] args = ["--data-dir", data, "--DemoSeed", "7"];
            await using (var first = await RunningServer.StartAsync(demo: true, args))
            {
                Assert.True(await BothSidesQuotedAsync(first), "the demo did not quote before the restart");
            }

            await using var second = await RunningServer.StartAsync(demo: true, args);
            Assert.True(await BothSidesQuotedAsync(second), "the demo did not quote after the restart");
            Assert.Equal(7, (await second.GetOkAsync("/api/status")).GetProperty("accounts").GetInt32()); // two makers, the taker, the isolated trader, the two gamblers and the API demo trader, reused

            // Their margin modes survive the restart: the BTC maker stays on portfolio margin.
            var roles = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(data, Demo.DemoAccounts.FileName)))!;
            Assert.Equal("portfolio", (await second.GetOkAsync($"/api/accounts/{roles["maker-BTC"]}/margin")).GetProperty("mode").GetString());
            Assert.Equal("standard", (await second.GetOkAsync($"/api/accounts/{roles["maker-ETH"]}/margin")).GetProperty("mode").GetString());
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    private static Task<bool> BothSidesQuotedAsync(RunningServer server) =>
        RunningServer.EventuallyAsync(
            async () =>
            {
                var book = await server.GetOkAsync("/api/book/BTC_USDC-PERPETUAL?depth=5");
                return book.GetProperty("bids").GetArrayLength() == 5 && book.GetProperty("asks").GetArrayLength() == 5;
            },
            TimeSpan.FromSeconds(20));

    private static async Task<(int, int)> StatusAndCode(RunningServer server, string path)
    {
        var (status, body) = await server.GetAsync(path);
        return (status, body.GetProperty("code").GetInt32());
    }

    /// <summary>Byte offsets of the records in a journal segment (frames: u32 length, i64 sequence, u32 CRC, payload).</summary>
    private static List<long> RecordOffsets(string segment)
    {
        byte[] bytes = File.ReadAllBytes(segment);
        var offsets = new List<long>();
        for (int offset = 0; offset + 16 <= bytes.Length; offset += 16 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)))
        {
            offsets.Add(offset);
        }

        return offsets;
    }

    private static void FlipBit(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        int b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x10));
    }

    private static void RewriteBlockLog(string data, IEnumerable<BlockHeader> headers)
    {
        string directory = DataLayout.BlocksDirectory(data);
        File.Delete(Path.Combine(directory, BlockHeaderStore.FileName));
        using var store = BlockHeaderStore.Open(directory);
        foreach (var header in headers)
        {
            store.Append(header.Height, header.Encode());
        }
    }
}
