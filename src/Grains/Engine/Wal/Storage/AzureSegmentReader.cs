using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace TimeFusion.Wal;

/// <summary>Ranged downloads of one segment blob (the scanner asks for large chunks).</summary>
internal sealed class AzureSegmentReader(BlobClient blob, string describe) : IWalSegmentReader
{
    public async ValueTask ReadExactlyAsync(long position, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty) return;
        var response = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(position, buffer.Length) }, cancellationToken);
        await using var content = response.Value.Content;
        try
        {
            await content.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException e)
        {
            throw new EndOfStreamException($"WAL segment '{describe}' ended before byte {position + buffer.Length}", e);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
