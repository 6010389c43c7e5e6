namespace TimeFusion.Wal;

/// <summary>How a log on local disk writes its segments (<see cref="WalOptions.WriteMode"/>). Azure append blobs ignore it.</summary>
public enum WalWriteMode
{
    /// <summary>
    /// Each group commit is appended at the end of the segment file through the page cache and fsynced: every ack
    /// grows the file, so every fsync also commits a journal transaction for the new size and blocks.
    /// </summary>
    Append = 0,

    /// <summary>
    /// Segments are grown ahead of the write position by zero-filled chunks (made durable with their size after a
    /// group's acknowledgement, sized to the recent groups) and the next segment is prepared before the current one fills;
    /// groups are written with <c>O_DIRECT</c> from a 4 KiB-aligned buffer (no copy into the page cache, no dirty-page
    /// throttling) over blocks that already exist, and made durable with <c>fdatasync</c> (no metadata to journal). A
    /// file system that refuses <c>O_DIRECT</c> (tmpfs) gets buffered writes into the same preallocated files.
    /// Recovery reads a zero tail as the clean end of a segment; logs of either mode open in the other.
    /// </summary>
    Direct = 1,
}
