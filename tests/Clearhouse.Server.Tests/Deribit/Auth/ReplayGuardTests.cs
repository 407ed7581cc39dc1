using System.Runtime.InteropServices;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clearhouse.Server.Tests.Deribit.Auth;

/// <summary>
/// The nonce ledger's durability without a wait on the caller's thread: a use is decided at once
/// (new or replay), its line reaches the disk through a group-committed flush on the thread pool,
/// and its task completes only after that; a flush the disk refuses fails its uses and forgets them.
/// </summary>
public sealed partial class ReplayGuardTests : IDisposable
{
    private static readonly byte[] Signature = new byte[32];
    private readonly string data = TemporaryDirectory.Create("replay-guard");

    private string LogPath => Path.Combine(data, ReplayGuard.RelativePath);

    public void Dispose() => TemporaryDirectory.Delete(data);

    [Fact]
    public async Task A_use_is_decided_at_once_and_completes_only_when_its_line_is_on_disk_with_every_use_queued_behind_it_in_one_flush()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // a FIFO stands in for a disk that has not answered yet
        }

        using var guard = NewGuard();
        long now = NowMicros();
        long ts = now / 1000;

        // The file is a FIFO: the flush's open blocks until a reader appears, like a write stuck on
        // a slow disk. Every use made meanwhile must queue behind it, and none may complete.
        File.Delete(LogPath);
        Assert.Equal(0, MakeFifo(LogPath, Convert.ToUInt32("600", 8)));
        var first = guard.TryUseAsync("key", ts, "n0", Signature, now);
        var queued = Enumerable.Range(1, 99).Select(i => guard.TryUseAsync("key", ts, $"n{i}", Signature, now)).ToList();
        var replay = guard.TryUseAsync("key", ts, "n42", Signature, now);

        Assert.True(replay.IsCompleted, "a replay is refused at once, without waiting for the disk");
        Assert.False(await replay);
        await Task.Delay(100);
        Assert.False(first.IsCompleted, "a use must not complete before its line is on disk");
        Assert.All(queued, use => Assert.False(use.IsCompleted));

        await using (var reader = new FileStream(LogPath, FileMode.Open, FileAccess.Read))
        {
            var lines = await ReadLinesAsync(reader, 100);
            Assert.Equal(100, lines.Distinct().Count());
            Assert.All(lines, line => Assert.Matches(LogLine(), line));
        }

        Assert.True(await first);
        foreach (var use in queued)
        {
            Assert.True(await use);
        }

        // Grouped: the first flush took what was queued when it started (the first use, perhaps a
        // few more), the second everything queued while the first was stuck. One fsync per use would be 100.
        Assert.InRange(guard.FlushCount, 1, 2);
    }

    [Fact]
    public async Task Uses_survive_a_new_guard_on_the_same_directory()
    {
        long now = NowMicros();
        long ts = now / 1000;
        using (var guard = NewGuard())
        {
            var uses = Enumerable.Range(0, 50).Select(i => guard.TryUseAsync("key", ts, $"n{i}", Signature, now).AsTask()).ToArray();
            Assert.All(await Task.WhenAll(uses), Assert.True);
        }

        using var restarted = NewGuard();
        Assert.Equal(50, restarted.Count);
        Assert.False(await restarted.TryUseAsync("key", ts, "n7", Signature, now));
        Assert.True(await restarted.TryUseAsync("key", ts, "n50", Signature, now));
    }

    [Fact]
    public async Task A_use_the_disk_refuses_fails_with_10040_and_is_forgotten_so_the_same_signature_may_be_sent_again()
    {
        using var guard = NewGuard();
        long now = NowMicros();
        long ts = now / 1000;

        // A directory where the file should be: opening it for writing fails.
        File.Delete(LogPath);
        Directory.CreateDirectory(LogPath);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await guard.TryUseAsync("key", ts, "n1", Signature, now));
        Assert.Equal(10040, refused.Error.Code);
        Assert.Equal(0, guard.Count);

        Directory.Delete(LogPath);
        Assert.True(await guard.TryUseAsync("key", ts, "n1", Signature, now));
        Assert.False(await guard.TryUseAsync("key", ts, "n1", Signature, now));

        // After a failed append the next one starts on a new line, in case the failure left half a line.
        string text = File.ReadAllText(LogPath);
        Assert.StartsWith("\n", text, StringComparison.Ordinal);
        Assert.Matches(LogLine(), Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task Without_a_journal_uses_are_kept_in_memory_and_complete_at_once()
    {
        using var guard = new ReplayGuard(new ServerOptions { DataDirectory = data, Journal = false }, TimeProvider.System, NullLogger<ReplayGuard>.Instance);
        long now = NowMicros();

        var use = guard.TryUseAsync("key", now / 1000, "n", Signature, now);

        Assert.True(use.IsCompletedSuccessfully);
        Assert.True(await use);
        Assert.False(await guard.TryUseAsync("key", now / 1000, "n", Signature, now));
        Assert.False(File.Exists(LogPath));
    }

    private ReplayGuard NewGuard() =>
        new(new ServerOptions { DataDirectory = data, Journal = true }, TimeProvider.System, NullLogger<ReplayGuard>.Instance);

    private static long NowMicros() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

    private static async Task<List<string>> ReadLinesAsync(Stream stream, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (lines.Count < count && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9]+ [0-9a-f]{64}$")]
    private static partial System.Text.RegularExpressions.Regex LogLine();
}
