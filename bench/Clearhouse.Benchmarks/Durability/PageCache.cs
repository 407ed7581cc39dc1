using System.Runtime.InteropServices;

namespace Clearhouse.Benchmarks.Durability;

/// <summary>
/// Drops one file's pages from the OS page cache (Linux <c>posix_fadvise(POSIX_FADV_DONTNEED)</c>
/// after the data is on disk), so a replay reads from the disk rather than from memory without
/// touching other processes' cached files (as <c>drop_caches</c> would). A no-op elsewhere.
/// </summary>
internal static class PageCache
{
    private const int PosixFadviseDontNeed = 4;

    public static bool Evict(IEnumerable<string> files)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var ok = true;
        foreach (var path in files)
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            ok &= Fadvise((int)handle.DangerousGetHandle(), 0, 0, PosixFadviseDontNeed) == 0;
        }

        return ok;
    }

    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int Fadvise(int fd, long offset, long length, int advice);
}
