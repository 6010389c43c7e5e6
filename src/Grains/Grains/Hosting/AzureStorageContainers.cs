using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace TimeFusion.Hosting;

/// <summary>The blob containers of <see cref="StorageKind.AzureBlob"/> storage, made once from <see cref="TimeFusionStorageOptions"/>.</summary>
public sealed class AzureStorageContainers(IOptions<TimeFusionStorageOptions> options)
{
    private readonly Lazy<(BlobContainerClient Tables, BlobContainerClient Wal)> _containers = new(() =>
    {
        var o = options.Value;
        return (new BlobContainerClient(o.ConnectionString, o.TablesContainer), new BlobContainerClient(o.ConnectionString, o.WalContainer));
    });

    /// <summary>The container of Delta tables.</summary>
    public BlobContainerClient Tables => _containers.Value.Tables;

    /// <summary>The container of WAL segments.</summary>
    public BlobContainerClient Wal => _containers.Value.Wal;
}
