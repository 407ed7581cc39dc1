namespace Clearhouse.Journal;

/// <summary>
/// One group commit as the flusher made it (<see cref="JournalWriterOptions.OnCommitted"/>): how
/// many records it carried and how long its write and its fsync took. Every answer in the batch
/// waited for both, so their tails are the durable answers' tails.
/// </summary>
/// <param name="Records">Records written and made durable by this commit.</param>
/// <param name="Bytes">Bytes written (frames only, not preallocation).</param>
/// <param name="WriteTime">Checksumming and writing the frames (and rolling segments, if one filled).</param>
/// <param name="SyncTime">The fsync or fdatasync alone.</param>
public readonly record struct JournalCommit(int Records, long Bytes, TimeSpan WriteTime, TimeSpan SyncTime);
