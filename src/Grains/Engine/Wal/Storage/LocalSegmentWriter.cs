using Microsoft.Win32.SafeHandles;

namespace TimeFusion.Wal;

/// <summary>Appends to a local segment file with positional vectored writes; flush is fsync.</summary>
internal sealed class LocalSegmentWriter(string name, string file, SafeFileHandle handle, long length) : IWalSegmentWriter
{
    public string Name => name;

    public long Length { get; private set; } = length;

    public bool CanAppend(long bytes) => true;

    /// <summary>
    /// Writes on the calling thread (the WAL's writer loop, which fsyncs on it next): the asynchronous write ran the same
    /// blocking pwritev on another pool thread, a thread hop per group commit for nothing.
    /// </summary>
    public ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long total = 0;
        for (var i = 0; i < buffers.Count; i++) total += buffers[i].Length;
        try
        {
            RandomAccess.Write(handle, buffers, Length);
        }
        catch (Exception e)
        {
            return ValueTask.FromException(new IOException($"writing {total} bytes at {Length} of WAL segment '{file}' failed: {e.Message}", e));
        }
        Length += total;
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e)
        {
            throw new IOException($"fsync of WAL segment '{file}' failed: {e.Message}", e);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        handle.Dispose();
        return ValueTask.CompletedTask;
    }
}
