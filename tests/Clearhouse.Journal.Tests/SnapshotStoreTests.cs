using System.Buffers.Binary;
using Clearhouse.Journal.Snapshots;

namespace Clearhouse.Journal.Tests;

public class SnapshotStoreTests
{
    private static byte[] State(int seed, int length = 10_000)
    {
        var state = new byte[length];
        new Random(seed).NextBytes(state);
        return state;
    }

    [Fact]
    public void A_saved_snapshot_loads_back_as_the_newest()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Sub("snapshots"));
        store.Save(100, State(1));
        store.Save(250, State(2));

        Assert.True(store.TryLoadLatest(out var sequence, out var state, out var warnings));

        Assert.Equal(250, sequence);
        Assert.Equal(State(2), state);
        Assert.Empty(warnings);
        Assert.Equal([100L, 250L], store.ListSequences());
        Assert.True(File.Exists(Path.Combine(dir.Sub("snapshots"), "00000000000000000250.snap")));
    }

    [Fact]
    public void A_snapshot_file_is_the_documented_header_then_the_state()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        var path = store.Save(7, [1, 2, 3]);
        var bytes = File.ReadAllBytes(path);

        Assert.Equal(SnapshotStore.HeaderSize + 3, bytes.Length);
        Assert.Equal("CHSN"u8.ToArray(), bytes[..4]);
        Assert.Equal(SnapshotStore.CurrentVersion, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(7L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(3L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16)));
        Assert.Equal([1, 2, 3], bytes[SnapshotStore.HeaderSize..]);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void A_corrupt_newest_snapshot_falls_back_to_the_previous_one_with_a_warning()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        store.Save(100, State(1));
        var newest = store.Save(200, State(2));
        Journals.FlipBit(newest, SnapshotStore.HeaderSize + 5000, 3);

        Assert.True(store.TryLoadLatest(out var sequence, out var state, out var warnings));

        Assert.Equal(100, sequence);
        Assert.Equal(State(1), state);
        var warning = Assert.Single(warnings);
        Assert.Contains(newest, warning);
        Assert.Contains("checksum", warning);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(SnapshotStore.HeaderSize + 9_999)]
    public void A_truncated_newest_snapshot_falls_back_to_the_previous_one(int keptBytes)
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        store.Save(100, State(1));
        Journals.Truncate(store.Save(200, State(2)), keptBytes);

        Assert.True(store.TryLoadLatest(out var sequence, out _, out var warnings));

        Assert.Equal(100, sequence);
        Assert.Single(warnings);
    }

    [Fact]
    public void A_damaged_header_or_a_renamed_file_is_not_loaded()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        store.Save(100, State(1));
        Journals.FlipBit(store.Save(200, State(2)), 10, 0);
        File.Copy(Path.Combine(dir.Path, SnapshotStore.FileName(100)), Path.Combine(dir.Path, SnapshotStore.FileName(300)));

        Assert.True(store.TryLoadLatest(out var sequence, out _, out var warnings));

        Assert.Equal(100, sequence);
        Assert.Equal(2, warnings.Count);
        Assert.Contains("does not match its file name", warnings[0]);
        Assert.Contains("header checksum", warnings[1]);
    }

    [Fact]
    public void No_snapshot_loads_as_none_and_leftover_temporary_files_are_ignored()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        File.WriteAllBytes(Path.Combine(dir.Path, "00000000000000000009.snap.tmp"), [1, 2, 3]);

        Assert.False(store.TryLoadLatest(out _, out var state));
        Assert.Empty(state);
    }

    [Fact]
    public void Saving_the_same_sequence_again_replaces_the_snapshot()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        store.Save(5, State(1));
        store.Save(5, State(2));

        Assert.True(store.TryLoadLatest(out _, out var state));
        Assert.Equal(State(2), state);
    }

    [Fact]
    public void Prune_keeps_the_newest_valid_snapshots_and_never_counts_a_corrupt_one()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        foreach (var sequence in new long[] { 10, 20, 30, 40 })
        {
            store.Save(sequence, State((int)sequence, 100));
        }
        Journals.FlipBit(Path.Combine(dir.Path, SnapshotStore.FileName(40)), SnapshotStore.HeaderSize + 1, 1);
        File.WriteAllBytes(Path.Combine(dir.Path, "00000000000000000050.snap.tmp"), [1]);

        var deleted = store.Prune(keep: 2);

        Assert.Equal(2, deleted); // snapshot 10 and the temporary file
        Assert.Equal([20L, 30L, 40L], store.ListSequences());
        Assert.True(store.TryLoadLatest(out var latest, out _));
        Assert.Equal(30, latest);
    }
}
