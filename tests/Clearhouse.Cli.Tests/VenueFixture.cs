using Clearhouse.Core.Engine;
using Clearhouse.Core.Merkle;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;
using Clearhouse.Journal.Tests;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Cli.Tests;

/// <summary>
/// A venue data directory written the way the server writes it: each command stamped, encoded
/// with <see cref="CommandCodec"/>, appended to the journal, applied, fed to the
/// <see cref="BlockSealer"/> (default rule), and each sealed header appended to
/// <c>blocks/blocks.log</c>. Removed when the test ends.
/// </summary>
internal sealed class VenueFixture : IDisposable
{
    private VenueFixture(string root)
    {
        DataDirectory = root;
    }

    public string DataDirectory { get; }

    public string JournalDirectory => DataLayout.JournalDirectory(DataDirectory);

    public string BlocksFile => Path.Combine(DataLayout.BlocksDirectory(DataDirectory), BlockHeaderStore.FileName);

    public List<Command> Commands { get; } = [];

    public List<BlockHeader> Headers { get; } = [];

    public CoreEngine Engine { get; } = new();

    /// <summary>About 50 commands per block with the default 1 s rule (commands 0..40 ms apart).</summary>
    public static VenueFixture Create(int commands = 3_000, int seed = 1, long segmentSizeBytes = 32 * 1024, bool storeHeaders = true)
    {
        var fixture = new VenueFixture(Path.Combine(Path.GetTempPath(), "clearhouse-cli-tests", Guid.NewGuid().ToString("N")));
        var sealer = new BlockSealer();
        using var journal = JournalWriter.Open(fixture.JournalDirectory, new JournalWriterOptions { BackgroundFlush = false, SegmentSizeBytes = segmentSizeBytes });
        using var blocks = BlockHeaderStore.Open(DataLayout.BlocksDirectory(fixture.DataDirectory));
        foreach (var command in SampleStream.Generate(seed, commands))
        {
            var bytes = CommandCodec.Encode(command);
            journal.Append(command.Sequence, bytes);
            fixture.Engine.Apply(command);
            fixture.Commands.Add(command);
            if (sealer.Append(command.Sequence, command.TimestampMicros, bytes, fixture.Engine) is { } header)
            {
                journal.Flush(); // a block's commands are durable before its header
                if (storeHeaders)
                {
                    blocks.Append(header.Height, header.Encode());
                }

                fixture.Headers.Add(header);
            }
        }

        journal.Flush();
        return fixture;
    }

    /// <summary>Rewrites the block log with <paramref name="edit"/> applied to each header.</summary>
    public void RewriteHeaders(Func<BlockHeader, BlockHeader> edit)
    {
        File.Delete(BlocksFile);
        using var blocks = BlockHeaderStore.Open(Path.GetDirectoryName(BlocksFile)!);
        foreach (var header in Headers)
        {
            var edited = edit(header);
            blocks.Append(edited.Height, edited.Encode());
        }
    }

    /// <summary>
    /// Rewrites the whole journal with <paramref name="edit"/> applied to each command's bytes:
    /// every record freshly framed with a valid CRC, as a malicious operator would.
    /// </summary>
    public void RewriteJournal(Func<Command, byte[], byte[]> edit)
    {
        Directory.Delete(JournalDirectory, recursive: true);
        using var journal = JournalWriter.Open(JournalDirectory, new JournalWriterOptions { BackgroundFlush = false, SegmentSizeBytes = 32 * 1024 });
        foreach (var command in Commands)
        {
            journal.Append(command.Sequence, edit(command, CommandCodec.Encode(command)));
        }

        journal.Flush();
    }

    /// <summary>The height of the block holding <paramref name="sequence"/>.</summary>
    public long BlockOf(long sequence) => Headers.First(h => h.FirstSequence <= sequence && sequence <= h.LastSequence).Height;

    public void Dispose()
    {
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>What one in-process run of the CLI printed and returned.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static CliRun Of(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = ClearhouseCli.Run(args, output, error);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
