using TimeFusion.Buffer;
using TimeFusion.Engine;

namespace TimeFusion.Hosting;

/// <summary>Where a silo keeps its data and how its engine behaves.</summary>
public sealed class TimeFusionEngineOptions
{
    /// <summary>Root of WAL segments (<c>wal/</c>), Delta tables (<c>tables/</c>) and staging (<c>staging/</c>) on local disk.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The silo-wide DuckDB buffer database and memory budget.</summary>
    public BufferOptions Buffer { get; set; } = new();

    /// <summary>Per-table engine settings (ingest limits, WAL, Delta, flush).</summary>
    public EngineOptions Engine { get; set; } = new();

    /// <summary>How often each table grain checks whether a flush is due.</summary>
    public TimeSpan FlushCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
