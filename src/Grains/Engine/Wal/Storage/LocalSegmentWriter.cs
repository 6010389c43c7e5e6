using Microsoft.Win32.SafeHandles;

namespace TimeFusion.Wal;

/// <summary>Appends to a local segment file with positional vectored writes; flush is fsync.</summary>
internal sealed class LocalSegmentWriter(string name, string file, SafeFileHandle handle, long length) : IWalSegmentWriter
{
    public string Name => name;

    public long Length { get; private set; } = length;

    public bool CanAppend(long bytes) => true;

    public async ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken)
    {
        long total = 0;
        for (var i = 0; i < buffers.Count; i++) total += buffers[i].Length;
        try
        {
            await RandomAccess.WriteAsync(handle, buffers, Length, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new IOException($"writing {total} bytes at {Length} of WAL segment '{file}' failed: {e.Message}", e);
        }
        Length += total;
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
