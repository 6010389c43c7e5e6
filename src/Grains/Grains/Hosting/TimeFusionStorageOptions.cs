namespace TimeFusion.Hosting;

/// <summary>Where Delta tables and WAL segments live, bound from <c>TimeFusion:Storage</c>.</summary>
public sealed class TimeFusionStorageOptions
{
    /// <summary><see cref="StorageKind.Local"/> (default) or <see cref="StorageKind.AzureBlob"/>.</summary>
    public StorageKind Kind { get; set; } = StorageKind.Local;

    /// <summary>The Azure Storage connection string; required with <see cref="StorageKind.AzureBlob"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The container holding Delta tables (created at start when missing). Default <c>timefusion-tables</c>.</summary>
    public string TablesContainer { get; set; } = "timefusion-tables";

    /// <summary>The container holding WAL segments (created at start when missing). Default <c>timefusion-wal</c>.</summary>
    public string WalContainer { get; set; } = "timefusion-wal";

    /// <summary>A folder inside both containers, so several deployments can share them. Default empty.</summary>
    public string Prefix { get; set; } = "";
}
