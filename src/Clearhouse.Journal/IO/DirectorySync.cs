using System.Runtime.InteropServices;

namespace Clearhouse.Journal.IO;

/// <summary>
/// Makes directory entries durable: after creating, renaming or deleting a file, the directory itself
/// must be fsynced or the change can vanish in a crash even though the file's data was fsynced.
/// .NET has no API for it (it refuses to open a directory as a file), so on Unix this opens the
/// directory read-only and calls fsync through libc. Windows journals directory metadata (NTFS), so
/// it is a no-op there.
/// </summary>
internal static class DirectorySync
{
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Creates <paramref name="directory"/> if missing and, when it was created, makes its entry durable in the parent.</summary>
    public static void Ensure(string directory)
    {
        var full = System.IO.Path.GetFullPath(directory);
        if (Directory.Exists(full))
        {
            return;
        }
        Directory.CreateDirectory(full);
        var parent = System.IO.Path.GetDirectoryName(full.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        if (parent is not null)
        {
            Flush(parent);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
