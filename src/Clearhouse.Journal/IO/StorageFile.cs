using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Clearhouse.Journal.IO;

/// <summary>
/// A file written at explicit offsets and made durable with <see cref="FlushToDisk"/> (fsync or
/// fdatasync, <see cref="JournalSync"/>). Writers go through this seam so tests can inject write and
/// fsync failures.
/// </summary>
internal class StorageFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly JournalSync _sync;

    public StorageFile(string path, FileMode mode, JournalSync sync = JournalSync.Fsync)
    {
        Path = path;
        _sync = sync;
        _handle = File.OpenHandle(path, mode, FileAccess.ReadWrite, FileShare.Read);
    }

    public string Path { get; }

    public long Length => RandomAccess.GetLength(_handle);

    public virtual void Write(ReadOnlySpan<byte> data, long offset) => RandomAccess.Write(_handle, data, offset);

    /// <summary>Cuts (or extends) the file to <paramref name="length"/> bytes; durable at the next <see cref="FlushToDisk"/>.</summary>
    public virtual void SetLength(long length) => RandomAccess.SetLength(_handle, length);

    /// <summary>
    /// Forces written data and the file size to stable storage: fdatasync on Linux when the file was
    /// opened with <see cref="JournalSync.DataSync"/>, otherwise fsync (FlushFileBuffers on Windows).
    /// </summary>
    public virtual void FlushToDisk()
    {
        if (_sync == JournalSync.DataSync && OperatingSystem.IsLinux())
        {
            DataSync();
            return;
        }
        RandomAccess.FlushToDisk(_handle);
    }

    private void DataSync()
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            while (FDataSync((int)_handle.DangerousGetHandle()) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                // EINTR: the call was interrupted before it did anything; every other error is fatal
                // (the fsync failure policy: never retry over possibly lost pages).
                if (errno != 4)
                {
                    throw new IOException($"fdatasync of '{Path}' failed (errno {errno}).");
                }
            }
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    public virtual void Dispose() => _handle.Dispose();

    /// <summary>Opens (or creates) a file synced with fsync; the default factory used when no test hook replaces it.</summary>
    public static StorageFile Open(string path, FileMode mode) => new(path, mode);

    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static extern int FDataSync(int fd);
}
