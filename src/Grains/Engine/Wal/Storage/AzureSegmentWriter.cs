using System.Buffers;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace TimeFusion.Wal;

/// <summary>
/// Appends to one segment blob in blocks of at most <see cref="AzureWalStorageOptions.MaxAppendBlockBytes"/>, each
/// conditioned on the append position this writer expects. A 412 means the blob changed under us — unless our own
/// earlier attempt (retried by the SDK after a lost response) already put exactly these bytes there. In cluster mode
/// appends also carry the segment's lease id (<see cref="AzureWalDirectory"/>): a writer whose lease was broken is fenced.
/// </summary>
internal sealed class AzureSegmentWriter(
    AppendBlobClient blob, string name, string describe, long length, int blocks, AzureWalStorageOptions options, string? leaseId = null) : IWalSegmentWriter
{
    private byte[]? _block;
    private int _blocks = blocks;

    public string Name => name;

    public long Length { get; private set; } = length;

    public bool CanAppend(long bytes) => _blocks + (bytes + options.MaxAppendBlockBytes - 1) / options.MaxAppendBlockBytes <= options.MaxBlocksPerSegment;

    public async ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken)
    {
        _block ??= ArrayPool<byte>.Shared.Rent(options.MaxAppendBlockBytes);
        var filled = 0;
        for (var i = 0; i < buffers.Count; i++)
        {
            var source = buffers[i];
            while (!source.IsEmpty)
            {
                var n = Math.Min(source.Length, options.MaxAppendBlockBytes - filled);
                source.Span[..n].CopyTo(_block.AsSpan(filled));
                filled += n;
                source = source[n..];
                if (filled == options.MaxAppendBlockBytes)
                {
                    await AppendBlockAsync(filled, cancellationToken);
                    filled = 0;
                }
            }
        }
        if (filled > 0) await AppendBlockAsync(filled, cancellationToken);
    }

    private async Task AppendBlockAsync(int count, CancellationToken cancellationToken)
    {
        var block = _block!;
        try
        {
            using var content = new MemoryStream(block, 0, count, writable: false);
            await blob.AppendBlockAsync(content, new AppendBlobAppendBlockOptions
            {
                Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = Length, LeaseId = leaseId },
            }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 && e.ErrorCode is { } code && code.Contains("Lease", StringComparison.OrdinalIgnoreCase))
        {
            // Fenced: a new owner broke our lease. Whatever we were appending is refused, never interleaved.
            throw new WalConflictException($"WAL segment '{describe}' is no longer this writer's: another writer took the table over and holds its lease ({code})", e);
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            if (!await AlreadyAppendedAsync(block.AsMemory(0, count), cancellationToken))
                throw new WalConflictException($"WAL segment '{describe}' changed under this writer at byte {Length}: another writer appended to it", e);
        }
        Length += count;
        _blocks++;
    }

    private async Task<bool> AlreadyAppendedAsync(ReadOnlyMemory<byte> expected, CancellationToken cancellationToken)
    {
        var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        if (properties.ContentLength != Length + expected.Length) return false;
        var response = await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(Length, expected.Length) }, cancellationToken);
        return response.Value.Content.ToMemory().Span.SequenceEqual(expected.Span);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_block is { } block) ArrayPool<byte>.Shared.Return(block);
        _block = null;
        if (leaseId is null) return;
        try
        {
            // A clean close hands the segment back; a new owner would break the lease anyway.
            await blob.GetBlobLeaseClient(leaseId).ReleaseAsync();
        }
        catch (RequestFailedException)
        {
            // Broken by a new owner, or released at rollover already.
        }
        leaseId = null;
    }
}
