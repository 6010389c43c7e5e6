namespace TimeFusion.Wal;

/// <summary>
/// Where write-ahead logs live: local files (<see cref="LocalWalStorage"/>, the default) or Azure append blobs
/// (<see cref="AzureAppendBlobWalStorage"/>, cluster mode). One storage serves every log of a silo; each log uses
/// its own folder (<see cref="TimeFusion.Storage.StoragePathNames.WalRoot"/>). Every failure is an exception.
/// </summary>
public interface IWalStorage
{
    /// <summary>A human-readable location, for messages (no secrets).</summary>
    string Describe { get; }

    /// <summary>The folder at <paramref name="relativePath"/> ('/'-separated, produced by our own code).</summary>
    IWalDirectory GetDirectory(string relativePath);
}

/// <summary>One log's folder: segments plus the identity file.</summary>
public interface IWalDirectory
{
    /// <summary>A human-readable location, for messages (no secrets).</summary>
    string Describe { get; }

    /// <summary>Every file in the folder (not recursive) with its readable length; empty when the folder does not exist.</summary>
    Task<IReadOnlyList<WalFileInfo>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Reads a small file whole; null when it does not exist; an error when it is larger than <paramref name="maxBytes"/>.</summary>
    Task<byte[]?> ReadSmallFileAsync(string name, int maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a file with this content, durably and atomically, only if none exists.
    /// Returns false, writing nothing, when the file already exists.
    /// </summary>
    Task<bool> CreateFileAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Opens a segment for random-access reading.</summary>
    Task<IWalSegmentReader> OpenReadAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a new, empty segment (durably: it is there after a crash), written as <paramref name="options"/>'
    /// <see cref="WalOptions.WriteMode"/> says where the storage has modes. Fails with <see cref="WalConflictException"/> if it exists.
    /// </summary>
    Task<IWalSegmentWriter> CreateSegmentAsync(string name, WalOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// Reopens the last segment to append after its first <paramref name="validLength"/> bytes, dropping anything after
    /// them (a torn tail). Returns null when this storage cannot append there (an Azure append blob cannot be
    /// truncated): the bytes after <paramref name="validLength"/> are then marked unreadable and the caller starts a new segment.
    /// </summary>
    Task<IWalSegmentWriter?> OpenAppendAsync(string name, long validLength, WalOptions options, CancellationToken cancellationToken);

    /// <summary>Deletes a file; deleting a missing file is not an error.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Makes this opener the only writer of segment <paramref name="name"/> (cluster mode: a blob lease taken from
    /// whoever held it), so that a previous owner still running — a silo paused and declared dead — fails its next
    /// append instead of interleaving with ours. Storage with a single process per folder needs nothing.
    /// </summary>
    Task FenceAsync(string name, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>A file in a WAL folder.</summary>
/// <param name="Name">The file name.</param>
/// <param name="Length">The readable length in bytes (for a segment whose tail was cut, up to the cut).</param>
public sealed record WalFileInfo(string Name, long Length);

/// <summary>Random-access reads of one segment.</summary>
public interface IWalSegmentReader : IAsyncDisposable
{
    /// <summary>Fills <paramref name="buffer"/> from <paramref name="position"/>; throws if the segment ends first.</summary>
    ValueTask ReadExactlyAsync(long position, Memory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>Appends to one segment. Used by one writer loop at a time.</summary>
public interface IWalSegmentWriter : IAsyncDisposable
{
    /// <summary>The segment name.</summary>
    string Name { get; }

    /// <summary>Bytes in the segment, including appends not yet flushed.</summary>
    long Length { get; }

    /// <summary>Whether one more append of <paramref name="bytes"/> bytes fits the storage's per-segment limits (e.g. Azure's block count).</summary>
    bool CanAppend(long bytes);

    /// <summary>Appends the buffers, in order, at the end of the segment.</summary>
    ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken);

    /// <summary>Makes every append so far durable (fsync). Storage whose appends are durable on return does nothing.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Called after a group was acknowledged, off its path: storage that prepares room ahead of the writes (zero-filled
    /// blocks, the next segment) does it now for groups of about <paramref name="expectedGroupBytes"/>. Nothing by default.
    /// </summary>
    ValueTask PrepareAsync(long expectedGroupBytes, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
