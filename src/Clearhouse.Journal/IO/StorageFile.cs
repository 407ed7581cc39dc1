using Microsoft.Win32.SafeHandles;

namespace Clearhouse.Journal.IO;

/// <summary>
/// A file written at explicit offsets and made durable with <see cref="FlushToDisk"/> (fsync).
/// Writers go through this seam so tests can inject write and fsync failures.
/// </summary>
internal class StorageFile : IDisposable
{
    private readonly SafeFileHandle _handle;

    public StorageFile(string path, FileMode mode)
    {
        Path = path;
        _handle = File.OpenHandle(path, mode, FileAccess.ReadWrite, FileShare.Read);
    }

    public string Path { get; }

    public long Length => RandomAccess.GetLength(_handle);

    public virtual void Write(ReadOnlySpan<byte> data, long offset) => RandomAccess.Write(_handle, data, offset);

    /// <summary>Forces written data and the file size to stable storage (fsync on Unix, FlushFileBuffers on Windows).</summary>
    public virtual void FlushToDisk() => RandomAccess.FlushToDisk(_handle);

    public virtual void Dispose() => _handle.Dispose();

    /// <summary>Opens (or creates) a file; the default factory used when no test hook replaces it.</summary>
    public static StorageFile Open(string path, FileMode mode) => new(path, mode);
}
