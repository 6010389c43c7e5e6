using TimeFusion.Delta;
using TimeFusion.Flush;
using TimeFusion.Ingest;
using TimeFusion.Maintenance;
using TimeFusion.Wal;

namespace TimeFusion.Engine;

/// <summary>Settings of the per-table storage engine; silo-wide, shared by every table.</summary>
public sealed class EngineOptions
{
    /// <summary>Batch limits checked on ingest.</summary>
    public IngestOptions Ingest { get; set; } = new();

    /// <summary>WAL durability, segment size and corruption policy.</summary>
    public WalOptions Wal { get; set; } = new();

    /// <summary>Delta checkpoint interval and retention.</summary>
    public DeltaOptions Delta { get; set; } = new();

    /// <summary>When to flush and where exports are staged.</summary>
    public FlushOptions Flush { get; set; } = new();

    /// <summary>OPTIMIZE, VACUUM and log cleanup thresholds.</summary>
    public MaintenanceOptions Maintenance { get; set; } = new();

    /// <summary>
    /// Cluster mode: on open, take the table over from any previous owner still running (a silo paused and declared
    /// dead) — the WAL's newest segment is leased (<see cref="IWalDirectory.FenceAsync"/>) and an ownership commit
    /// re-states the Delta <c>txn</c>, so the previous owner's next WAL append and next Delta commit both fail.
    /// </summary>
    public bool FenceOwnership { get; set; }
}
