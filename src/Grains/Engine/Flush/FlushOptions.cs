namespace TimeFusion.Flush;

/// <summary>When a table's buffered rows are persisted to Delta, and where exports are staged.</summary>
public sealed class FlushOptions
{
    /// <summary>Flush when the oldest buffered row has waited this long. Default 60 s.</summary>
    public TimeSpan MaxBufferAge { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Flush when a table holds this many buffered rows. Default 1,000,000.</summary>
    public long MaxBufferedRows { get; set; } = 1_000_000;

    /// <summary>Flush when a table's reservation reaches this many bytes. Default 512 MiB.</summary>
    public long MaxBufferedBytes { get; set; } = 512L << 20;

    /// <summary>Local folder where Parquet files are written before upload. Default: a folder under the system temp path.</summary>
    public string StagingDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "timefusion-staging");
}
