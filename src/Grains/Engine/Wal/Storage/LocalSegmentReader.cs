using Microsoft.Win32.SafeHandles;

namespace TimeFusion.Wal;

/// <summary>Positional reads of a local segment file.</summary>
internal sealed class LocalSegmentReader(SafeFileHandle handle, string file) : IWalSegmentReader
{
    public async ValueTask ReadExactlyAsync(long position, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var n = await RandomAccess.ReadAsync(handle, buffer, position, cancellationToken);
            if (n == 0) throw new EndOfStreamException($"WAL segment '{file}' ended at {position} while reading");
            position += n;
            buffer = buffer[n..];
        }
    }

    public ValueTask DisposeAsync()
    {
        handle.Dispose();
        return ValueTask.CompletedTask;
    }
}
