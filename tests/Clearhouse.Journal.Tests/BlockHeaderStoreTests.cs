using System.Collections.Concurrent;
using Clearhouse.Journal.Blocks;
using Clearhouse.Journal.Framing;

namespace Clearhouse.Journal.Tests;

public class BlockHeaderStoreTests
{
    private static byte[] Header(long height) => Journals.Payload(height + 1_000_000, 120);

    [Fact]
    public void Block_headers_round_trip_and_survive_reopening()
    {
        using var dir = new TempDirectory();
        var blocks = dir.Sub("blocks");
        using (var store = BlockHeaderStore.Open(blocks))
        {
            Assert.Equal(-1, store.LastHeight);
            for (long height = 0; height < 100; height++)
            {
                store.Append(height, Header(height));
            }
        }
        using (var reopened = BlockHeaderStore.Open(blocks))
        {
            Assert.Equal(99, reopened.LastHeight);
            Assert.Null(reopened.Recovery.TornTail);
            reopened.Append(100, Header(100));
            var all = reopened.ReadAll();
            Assert.Equal(Enumerable.Range(0, 101).Select(i => (long)i), all.Select(h => h.Height));
            Assert.All(all, h => Assert.Equal(Header(h.Height), h.Header));
        }
        Assert.True(File.Exists(Path.Combine(blocks, "blocks.log")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_torn_final_header_is_truncated_and_appends_continue(int seed)
    {
        using var dir = new TempDirectory();
        long lengthBeforeLast;
        using (var store = BlockHeaderStore.Open(dir.Path))
        {
            for (long height = 0; height < 10; height++)
            {
                store.Append(height, Header(height));
            }
            lengthBeforeLast = new FileInfo(store.Path).Length - (RecordFormat.HeaderSize + Header(9).Length);
        }
        var path = Path.Combine(dir.Path, BlockHeaderStore.FileName);
        var cut = lengthBeforeLast + 1 + new Random(seed).Next(RecordFormat.HeaderSize + Header(9).Length - 1);
        Journals.Truncate(path, cut);

        using var recovered = BlockHeaderStore.Open(dir.Path);

        Assert.NotNull(recovered.Recovery.TornTail);
        Assert.Equal(lengthBeforeLast, recovered.Recovery.TornTail.Offset);
        Assert.Equal(8, recovered.LastHeight);
        recovered.Append(9, Header(9));
        recovered.Append(10, Header(10));
        Assert.Equal(11, recovered.ReadAll().Count);
    }

    [Fact]
    public void A_damaged_header_before_the_last_stops_opening_naming_the_file_and_offset()
    {
        using var dir = new TempDirectory();
        using (var store = BlockHeaderStore.Open(dir.Path))
        {
            for (long height = 0; height < 10; height++)
            {
                store.Append(height, Header(height));
            }
        }
        var path = Path.Combine(dir.Path, BlockHeaderStore.FileName);
        var thirdOffset = 2 * RecordFormat.HeaderSize + Header(0).Length + Header(1).Length;
        Journals.FlipBit(path, thirdOffset + RecordFormat.HeaderSize + 2, 5);

        var error = Assert.Throws<JournalCorruptedException>(() => BlockHeaderStore.Open(dir.Path));

        Assert.Equal(path, error.FilePath);
        Assert.Equal(thirdOffset, error.Offset);
    }

    [Fact]
    public void Block_heights_must_strictly_increase()
    {
        using var dir = new TempDirectory();
        using var store = BlockHeaderStore.Open(dir.Path);
        store.Append(0, [1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Append(0, [2]));
        store.Append(5, [3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Append(4, [4]));
    }

    [Fact]
    public void A_failed_block_fsync_calls_the_fatal_handler()
    {
        using var dir = new TempDirectory();
        var fatal = new ConcurrentQueue<Exception>();
        using var store = BlockHeaderStore.Open(dir.Path, fatal.Enqueue,
            (path, mode) => new FaultyFile(path, mode) { BeforeFlush = () => throw new IOException("simulated EIO") });

        Assert.Throws<JournalFailedException>(() => store.Append(0, [1]));
        Assert.Contains("simulated EIO", Assert.Single(fatal).Message);
        Assert.Throws<JournalFailedException>(() => store.Append(1, [1]));
        Assert.Equal(-1, store.LastHeight);
    }
}
