using Azure.Storage.Blobs;

namespace TimeFusion.Wal;

/// <summary>
/// WAL storage in Azure Blob storage (cluster mode): each segment is an append blob, appended with
/// <c>If-Append-Position-Equal</c> so that a second writer is detected (412) instead of interleaving; created with
/// <c>If-None-Match: *</c>. Appends are durable when the service acknowledges them.
/// </summary>
public sealed class AzureAppendBlobWalStorage : IWalStorage
{
    private readonly BlobContainerClient _container;
    private readonly string _prefix;
    private readonly AzureWalStorageOptions _options;

    /// <summary>Uses <paramref name="container"/> (which must exist), under an optional blob name prefix such as <c>"silo-data/"</c>.</summary>
    public AzureAppendBlobWalStorage(BlobContainerClient container, string prefix = "", AzureWalStorageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0 && !prefix.EndsWith('/')) prefix += "/";
        _container = container;
        _prefix = prefix;
        _options = (options ?? new AzureWalStorageOptions()).Validate();
    }

    /// <inheritdoc />
    public string Describe => $"{_container.Uri.GetLeftPart(UriPartial.Path)}/{_prefix}";

    /// <inheritdoc />
    public IWalDirectory GetDirectory(string relativePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        foreach (var part in relativePath.Split('/'))
        {
            if (part.Length == 0 || part == "." || part == "..")
                throw new ArgumentException($"unsafe WAL folder path '{relativePath}'", nameof(relativePath));
        }
        return new AzureWalDirectory(_container, _prefix + relativePath + "/", _options);
    }
}
