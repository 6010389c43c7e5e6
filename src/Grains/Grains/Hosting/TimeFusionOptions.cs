namespace TimeFusion.Hosting;

/// <summary>The silo's local data directory, bound from <c>TimeFusion:DataDirectory</c>.</summary>
public sealed class TimeFusionOptions
{
    /// <summary>
    /// Root of local files: WAL segments (<c>wal/</c>) and Delta tables (<c>tables/</c>) with the <c>Local</c> storage
    /// kind, export staging (<c>staging/</c>), the blob cache (<c>cache/</c>) and the single-node catalog (<c>catalog/</c>).
    /// Default <c>data</c> (relative to the working directory).
    /// </summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The data directory as an absolute path.</summary>
    public string FullDataDirectory => Path.GetFullPath(DataDirectory);
}
