using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Clearhouse.Journal.IO;

namespace Clearhouse.Journal.Snapshots;

/// <summary>
/// Checksummed snapshots of the engine state, one file per snapshot named
/// <c>{sequence:D20}.snap</c> (the state after applying journal record <c>sequence</c>; replay
/// resumes at the next record). <see cref="Save"/> is atomic: write a temporary file, fsync it,
/// rename it into place, fsync the directory; a crash leaves the old set of snapshots or the new
/// one, never a half-written file under the final name. <see cref="TryLoadLatest(out long, out byte[], out IReadOnlyList{string})"/>
/// returns the newest snapshot that verifies, reporting any newer one that did not. The state bytes
/// are opaque here. File format: docs/durability.md, "Snapshot file format".
/// </summary>
public sealed class SnapshotStore
{
    /// <summary>"CHSN" read as a little-endian u32.</summary>
    public const uint Magic = 0x4E534843;

    public const ushort CurrentVersion = 1;

    /// <summary>magic u32, version u16, reserved u16, sequence i64, length i64, content CRC-32C u32, header CRC-32C u32.</summary>
    public const int HeaderSize = 32;

    public const string Extension = ".snap";

    private const string TemporaryExtension = ".snap.tmp";

    /// <summary>Opens the store in <paramref name="directory"/>, creating the directory if missing.</summary>
    public SnapshotStore(string directory)
    {
        Directory = Path.GetFullPath(directory);
        DirectorySync.Ensure(Directory);
    }

    public string Directory { get; }

    /// <summary>The file name of the snapshot taken after <paramref name="sequence"/>.</summary>
    public static string FileName(long sequence) => sequence.ToString("D20", CultureInfo.InvariantCulture) + Extension;

    /// <summary>
    /// Writes the snapshot of the state after <paramref name="sequence"/> atomically and durably and
    /// returns its path. An existing snapshot with the same sequence is replaced. Throws
    /// <see cref="IOException"/> if any step fails (the journal remains the source of truth, so a
    /// failed snapshot is not fatal; the temporary file is removed).
    /// </summary>
    public string Save(long sequence, ReadOnlySpan<byte> state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        var finalPath = Path.Combine(Directory, FileName(sequence));
        var temporaryPath = finalPath[..^Extension.Length] + TemporaryExtension;
        Span<byte> header = stackalloc byte[HeaderSize];
        WriteHeader(header, sequence, state);
        try
        {
            using (var file = File.OpenHandle(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                RandomAccess.Write(file, header, 0);
                RandomAccess.Write(file, state, HeaderSize);
                RandomAccess.FlushToDisk(file);
            }
            File.Move(temporaryPath, finalPath, overwrite: true);
            DirectorySync.Flush(Directory);
        }
        catch
        {
            TryDelete(temporaryPath);
            throw;
        }
        return finalPath;
    }

    /// <summary>Sequences of the snapshot files present (valid or not), ascending.</summary>
    public IReadOnlyList<long> ListSequences()
    {
        var sequences = new List<long>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            var name = Path.GetFileName(path);
            if (name.Length == 20 + Extension.Length
                && long.TryParse(name.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                sequences.Add(sequence);
            }
        }
        sequences.Sort();
        return sequences;
    }

    /// <summary>Loads the newest snapshot that verifies; false when there is none.</summary>
    public bool TryLoadLatest(out long sequence, out byte[] state) => TryLoadLatest(out sequence, out state, out _);

    /// <summary>
    /// Loads the newest snapshot that verifies; false when there is none. Each newer snapshot that
    /// failed verification (and was skipped) is described in <paramref name="warnings"/>, newest first.
    /// </summary>
    public bool TryLoadLatest(out long sequence, out byte[] state, out IReadOnlyList<string> warnings)
    {
        var problems = new List<string>();
        warnings = problems;
        var sequences = ListSequences();
        for (var i = sequences.Count - 1; i >= 0; i--)
        {
            var path = Path.Combine(Directory, FileName(sequences[i]));
            if (TryRead(path, out sequence, out state, out var problem))
            {
                return true;
            }
            problems.Add(problem!);
        }
        sequence = 0;
        state = [];
        return false;
    }

    /// <summary>
    /// Reads and verifies one snapshot file: magic, version, header checksum, the sequence in the
    /// header against the file name, the length against the file size, and the content checksum.
    /// </summary>
    public static bool TryRead(string path, out long sequence, out byte[] state, out string? problem)
    {
        sequence = 0;
        state = [];
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            var fileLength = RandomAccess.GetLength(file);
            if (fileLength < HeaderSize)
            {
                problem = $"Snapshot '{path}' is {fileLength} bytes, shorter than its {HeaderSize}-byte header.";
                return false;
            }
            Span<byte> header = stackalloc byte[HeaderSize];
            Framing.FrameScanner.ReadExactly(file, header, 0);
            problem = CheckHeader(path, header, fileLength, out sequence, out var length, out var contentChecksum);
            if (problem is not null)
            {
                return false;
            }
            var contents = GC.AllocateUninitializedArray<byte>(checked((int)length));
            Framing.FrameScanner.ReadExactly(file, contents, HeaderSize);
            if (Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, contents) != contentChecksum)
            {
                problem = $"Snapshot '{path}' failed its content checksum.";
                return false;
            }
            state = contents;
            return true;
        }
        catch (IOException error)
        {
            problem = $"Snapshot '{path}' could not be read: {error.Message}";
            return false;
        }
    }

    /// <summary>
    /// Keeps the newest <paramref name="keep"/> snapshots that verify and deletes every snapshot
    /// older than the oldest of those (and stale temporary files). Newer snapshots that fail to
    /// verify are left for inspection. Returns how many files were deleted.
    /// </summary>
    public int Prune(int keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        var deleted = 0;
        foreach (var temporary in System.IO.Directory.EnumerateFiles(Directory, "*" + TemporaryExtension))
        {
            TryDelete(temporary);
            deleted++;
        }
        var sequences = ListSequences();
        var kept = 0;
        var cutoff = -1;
        for (var i = sequences.Count - 1; i >= 0; i--)
        {
            if (TryRead(Path.Combine(Directory, FileName(sequences[i])), out _, out _, out _) && ++kept == keep)
            {
                cutoff = i;
                break;
            }
        }
        for (var i = 0; i < cutoff; i++)
        {
            File.Delete(Path.Combine(Directory, FileName(sequences[i])));
            deleted++;
        }
        if (deleted > 0)
        {
            DirectorySync.Flush(Directory);
        }
        return deleted;
    }

    private static void WriteHeader(Span<byte> header, long sequence, ReadOnlySpan<byte> state)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], state.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, state));
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, header[..28]));
    }

    private static string? CheckHeader(string path, ReadOnlySpan<byte> header, long fileLength,
        out long sequence, out long length, out uint contentChecksum)
    {
        sequence = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        length = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        contentChecksum = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            return $"Snapshot '{path}' does not start with the snapshot magic number.";
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(header[28..]) != Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, header[..28]))
        {
            return $"Snapshot '{path}' failed its header checksum.";
        }
        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != CurrentVersion)
        {
            return $"Snapshot '{path}' has format version {version}; this build reads version {CurrentVersion}.";
        }
        var name = Path.GetFileName(path);
        if (name != FileName(sequence))
        {
            return $"Snapshot '{path}' holds sequence {sequence}, which does not match its file name.";
        }
        if (length < 0 || length > Array.MaxLength || HeaderSize + length != fileLength)
        {
            return $"Snapshot '{path}' declares {length} content bytes but the file has {fileLength - HeaderSize}.";
        }
        return null;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
