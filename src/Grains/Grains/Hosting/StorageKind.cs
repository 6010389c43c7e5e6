namespace TimeFusion.Hosting;

/// <summary>Where a silo keeps Delta tables and WAL segments (<c>TimeFusion:Storage:Kind</c>).</summary>
public enum StorageKind
{
    /// <summary>On local disk under the data directory (single node, or a shared file system).</summary>
    Local,

    /// <summary>In Azure Blob storage: Delta tables as block blobs, WAL segments as append blobs; local disk only caches and stages.</summary>
    AzureBlob,
}
