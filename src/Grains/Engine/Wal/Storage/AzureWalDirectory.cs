using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace TimeFusion.Wal;

/// <summary>One log's folder as a blob name prefix.</summary>
/// <remarks>
/// Ownership: the writer holds an infinite blob lease on the segment it appends to (<see cref="FenceAsync"/> breaks a
/// previous holder's lease and takes a new one; a new segment is leased on creation, and used only once renewing the
/// lease on the previous one, after the new one exists, proves this writer still owns the log). Appends carry the
/// lease id, so a stale writer gets 412.
/// </remarks>
internal sealed class AzureWalDirectory(BlobContainerClient container, string prefix, AzureWalStorageOptions options) : IWalDirectory
{
    private (string Name, string LeaseId)? _lease;

    /// <summary>Metadata marking where the readable part of a segment ends (append blobs cannot be truncated).</summary>
    internal const string ValidLengthKey = "tfvalidlength";

    public string Describe => $"{container.Uri.GetLeftPart(UriPartial.Path)}/{prefix}";

    public async Task<IReadOnlyList<WalFileInfo>> ListAsync(CancellationToken cancellationToken)
    {
        var files = new List<WalFileInfo>();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix, cancellationToken))
        {
            var name = item.Name[prefix.Length..];
            if (name.Contains('/')) continue;
            var length = item.Properties.ContentLength ?? 0;
            if (ValidLength(item.Metadata) is { } valid) length = Math.Min(length, valid);
            files.Add(new WalFileInfo(name, length));
        }
        return files;
    }

    public async Task<byte[]?> ReadSmallFileAsync(string name, int maxBytes, CancellationToken cancellationToken)
    {
        try
        {
            var response = await Blob(name).DownloadStreamingAsync(cancellationToken: cancellationToken);
            await using var content = response.Value.Content;
            var length = response.Value.Details.ContentLength;
            if (length > maxBytes) throw new IOException($"'{Describe}{name}' is {length} bytes, more than the {maxBytes} allowed");
            var bytes = new byte[length];
            await content.ReadExactlyAsync(bytes, cancellationToken);
            return bytes;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<bool> CreateFileAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        try
        {
            await Blob(name).UploadAsync(BinaryData.FromBytes(content), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    public Task<IWalSegmentReader> OpenReadAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult<IWalSegmentReader>(new AzureSegmentReader(Blob(name), Describe + name));

    public async Task<IWalSegmentWriter> CreateSegmentAsync(string name, WalOptions walOptions, CancellationToken cancellationToken)
    {
        var held = _lease is { } h && h.Name != name ? h : ((string Name, string LeaseId)?)null;
        // Still ours? A writer fenced while paused should not even start a segment the new owner does not know of.
        if (held is { } before) await RenewOrFencedAsync(before, cancellationToken);
        var blob = AppendBlob(name);
        try
        {
            await blob.CreateAsync(new AppendBlobCreateOptions
            {
                Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new WalConflictException($"WAL segment '{Describe}{name}' already exists: another writer?", e);
        }
        var lease = blob.GetBlobLeaseClient(Guid.NewGuid().ToString());
        try
        {
            await lease.AcquireAsync(BlobLeaseClient.InfiniteLeaseDuration, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new WalConflictException($"WAL segment '{Describe}{name}' was taken by another writer as it was created", e);
        }
        if (held is { } previous)
        {
            // The renewal above may be old news: a writer frozen right after it could come back after a new owner broke
            // the lease and listed the segments (without this one). Renewing again now, with the new segment in place,
            // closes that window: either the new owner's break came first and this renewal fails (the new segment is
            // removed unwritten), or it came after, and the new owner's listing after its break shows this segment, so it
            // fences it too (FenceNewestSegmentAsync lists again until nothing newer appears) and every append here fails.
            try
            {
                await RenewOrFencedAsync(previous, cancellationToken);
            }
            catch (WalConflictException)
            {
                await DeleteUnwrittenAsync(blob, lease.LeaseId);
                throw;
            }
            await ReleaseAsync(previous.Name, previous.LeaseId);
        }
        _lease = (name, lease.LeaseId);
        return new AzureSegmentWriter(blob, name, Describe + name, 0, 0, options, lease.LeaseId);
    }

    private async Task RenewOrFencedAsync((string Name, string LeaseId) held, CancellationToken cancellationToken)
    {
        try
        {
            await Blob(held.Name).GetBlobLeaseClient(held.LeaseId).RenewAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw Fenced(held.Name, e);
        }
    }

    /// <summary>Removes a segment this writer created but may not write (best effort: an empty segment holds no entry).</summary>
    private static async Task DeleteUnwrittenAsync(AppendBlobClient blob, string leaseId)
    {
        try
        {
            await blob.DeleteIfExistsAsync(conditions: new BlobRequestConditions { LeaseId = leaseId });
        }
        catch (RequestFailedException)
        {
            // The new owner fenced it meanwhile: it is the new owner's (empty) segment now.
        }
    }

    public async Task<IWalSegmentWriter?> OpenAppendAsync(string name, long validLength, WalOptions walOptions, CancellationToken cancellationToken)
    {
        var blob = AppendBlob(name);
        var leaseId = _lease is { } held && held.Name == name ? held.LeaseId : null;
        var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        var length = properties.ContentLength;
        var cut = ValidLength(properties.Metadata);
        if (length < validLength)
            throw new IOException($"WAL segment '{Describe}{name}' is {length} bytes, shorter than the {validLength} recovered from it");
        if (length == validLength && cut is null && !properties.IsSealed)
            return new AzureSegmentWriter(blob, name, Describe + name, length, properties.BlobCommittedBlockCount, options, leaseId);
        if (validLength == 0)
        {
            // Nothing good in it: replace it by an empty blob under the same name (the name keeps the next LSN).
            await blob.CreateAsync(new AppendBlobCreateOptions
            {
                Conditions = new AppendBlobRequestConditions { IfMatch = properties.ETag, LeaseId = leaseId },
            }, cancellationToken);
            return new AzureSegmentWriter(blob, name, Describe + name, 0, 0, options, leaseId);
        }
        // An append blob cannot be truncated: mark where its good part ends; the caller starts a new segment.
        var metadata = new Dictionary<string, string>(properties.Metadata)
        {
            [ValidLengthKey] = validLength.ToString(CultureInfo.InvariantCulture),
        };
        await blob.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = properties.ETag, LeaseId = leaseId }, cancellationToken);
        return null;
    }

    public async Task FenceAsync(string name, CancellationToken cancellationToken) =>
        await AcquireAsync(name, breakFirst: true, cancellationToken);

    /// <summary>Takes an infinite lease on <paramref name="name"/> (breaking a previous holder's first) and releases the one held before.</summary>
    private async Task<string> AcquireAsync(string name, bool breakFirst, CancellationToken cancellationToken)
    {
        var blob = Blob(name);
        if (breakFirst)
        {
            try
            {
                await blob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                // No lease to break: nobody was writing.
            }
        }
        var lease = blob.GetBlobLeaseClient(Guid.NewGuid().ToString());
        try
        {
            await lease.AcquireAsync(BlobLeaseClient.InfiniteLeaseDuration, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new WalConflictException($"WAL segment '{Describe}{name}' was taken by another writer while this one took the log over", e);
        }
        if (_lease is { } previous && previous.Name != name) await ReleaseAsync(previous.Name, previous.LeaseId);
        _lease = (name, lease.LeaseId);
        return lease.LeaseId;
    }

    private async Task ReleaseAsync(string name, string leaseId)
    {
        try
        {
            await Blob(name).GetBlobLeaseClient(leaseId).ReleaseAsync();
        }
        catch (RequestFailedException)
        {
            // Already broken by a new owner, or gone: either way not ours any more.
        }
    }

    internal WalConflictException Fenced(string name, Exception inner) =>
        new($"WAL segment '{Describe}{name}' is no longer this writer's: another writer took the table over and holds its lease", inner);

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var conditions = _lease is { } held && held.Name == name ? new BlobRequestConditions { LeaseId = held.LeaseId } : null;
        try
        {
            await Blob(name).DeleteIfExistsAsync(conditions: conditions, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 412 && conditions is null)
        {
            // A segment fully flushed but still leased by a writer that crashed: its lease protects nothing any more.
            await Blob(name).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: cancellationToken);
            await Blob(name).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
    }

    private BlobClient Blob(string name) => container.GetBlobClient(prefix + CheckName(name));

    private AppendBlobClient AppendBlob(string name) => container.GetAppendBlobClient(prefix + CheckName(name));

    private static string CheckName(string name)
    {
        if (name.Length == 0 || name.Contains('/') || name == "." || name == "..")
            throw new ArgumentException($"unsafe WAL file name '{name}'", nameof(name));
        return name;
    }

    private static long? ValidLength(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(ValidLengthKey, out var text) &&
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;
}
