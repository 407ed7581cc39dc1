namespace Clearhouse.Journal;

/// <summary>
/// How a commit is made durable. Both make the appended bytes and the file size durable before the
/// writer acknowledges anything; they differ only in what else the kernel writes. See
/// docs/durability.md, "fsync or fdatasync".
/// </summary>
public enum JournalSync
{
    /// <summary>
    /// <c>fdatasync</c> on Linux: the data and the metadata needed to read it back (the size and
    /// block map), not the modification time. What PostgreSQL's WAL uses on Linux by default. On
    /// other systems the same as <see cref="Fsync"/>.
    /// </summary>
    DataSync = 0,

    /// <summary><c>fsync</c> (FlushFileBuffers on Windows): the data and all of the inode, timestamps included.</summary>
    Fsync = 1,
}
