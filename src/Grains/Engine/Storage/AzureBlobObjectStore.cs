using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace TimeFusion.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> on one Azure Blob container (optionally under a prefix).
/// Put-if-absent is an upload with <c>If-None-Match: *</c>; a 409/412 means another writer won.
/// Reads for engines that need files go through <see cref="LocalFileCache"/> (objects are immutable once written,
/// except <c>_last_checkpoint</c>, which is read with <see cref="ReadAllAsync"/>, never cached).
/// </summary>
public sealed class AzureBlobObjectStore : IObjectStore
{
    private readonly BlobContainerClient _container;
    private readonly string _prefix;
    private readonly LocalFileCache _cache;

    /// <summary>Creates a store over <paramref name="container"/>; object paths are placed under <paramref name="prefix"/>.</summary>
    /// <param name="container">The container (created by <see cref="EnsureContainerAsync"/> when missing).</param>
    /// <param name="prefix">A folder inside the container, or empty.</param>
    /// <param name="cache">The local cache that backs <see cref="GetLocalPathAsync"/>.</param>
    public AzureBlobObjectStore(BlobContainerClient container, string prefix, LocalFileCache cache)
    {
        _container = container;
        _prefix = string.IsNullOrEmpty(prefix) ? "" : prefix.TrimEnd('/') + "/";
        _cache = cache;
    }

    /// <inheritdoc />
    public string Describe => $"{_container.Uri}/{_prefix}";

    /// <summary>Creates the container if it does not exist.</summary>
    public async Task EnsureContainerAsync(CancellationToken cancellationToken = default) =>
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    private BlobClient Blob(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains('\\') || path.StartsWith('/') || path.Split('/').Any(s => s is "" or "." or ".."))
            throw new ArgumentException($"invalid object path '{path}'", nameof(path));
        return _container.GetBlobClient(_prefix + path);
    }

    /// <inheritdoc />
    public async Task<byte[]> ReadAllAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await Blob(path).DownloadContentAsync(cancellationToken);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ObjectNotFoundException(path);
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            return await Blob(path).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ObjectNotFoundException(path);
        }
    }

    /// <inheritdoc />
    public async Task<bool> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        try
        {
            await Blob(path).UploadAsync(BinaryData.FromBytes(content), new BlobUploadOptions
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

    /// <inheritdoc />
    public async Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        await Blob(path).UploadAsync(BinaryData.FromBytes(content), overwrite: true, cancellationToken);

    /// <inheritdoc />
    public async Task UploadFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        await using var fs = new FileStream(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        await Blob(path).UploadAsync(fs, overwrite: true, cancellationToken);
    }

    /// <inheritdoc />
    public Task<string> GetLocalPathAsync(string path, CancellationToken cancellationToken = default) =>
        _cache.GetOrAddAsync(Describe + path, async (target, ct) =>
        {
            try
            {
                await Blob(path).DownloadToAsync(target, ct);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                throw new ObjectNotFoundException(path);
            }
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var result = new List<ObjectInfo>();
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, _prefix + prefix, cancellationToken))
        {
            result.Add(new ObjectInfo(item.Name[_prefix.Length..], item.Properties.ContentLength ?? 0,
                item.Properties.LastModified ?? DateTimeOffset.MinValue));
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return result;
    }

    /// <inheritdoc />
    /// <remarks>A blob upload is atomic (blocks nobody committed are discarded by the service), so nothing is ever left behind.</remarks>
    public Task<IReadOnlyList<ObjectInfo>> ListTemporaryAsync(string prefix, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ObjectInfo>>([]);

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) =>
        (await Blob(path).ExistsAsync(cancellationToken)).Value;

    /// <inheritdoc />
    public async Task DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        await Blob(path).DeleteIfExistsAsync(cancellationToken: cancellationToken);
}
