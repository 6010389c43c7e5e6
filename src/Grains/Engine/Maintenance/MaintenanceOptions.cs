namespace TimeFusion.Maintenance;

/// <summary>
/// Table maintenance settings (<c>TimeFusion:Maintenance:*</c>): when OPTIMIZE bin-packs small files, how long VACUUM
/// keeps unreferenced files and the log keeps old commits. Silo-wide, shared by every table.
/// </summary>
public sealed class MaintenanceOptions
{
    /// <summary>Whether table grains run maintenance on their own (OPTIMIZE and VACUUM on demand work either way). Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often each table checks whether maintenance is due. Default 1 minute.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A data file smaller than this is "small": OPTIMIZE merges small files only. Default 32 MiB.</summary>
    public long SmallFileBytes { get; set; } = 32L << 20;

    /// <summary>A date partition with more small files than this is optimized automatically. Default 16.</summary>
    public int MaxSmallFilesPerPartition { get; set; } = 16;

    /// <summary>OPTIMIZE writes files of at most about this many bytes (summed input sizes). Default 256 MiB.</summary>
    public long TargetFileBytes { get; set; } = 256L << 20;

    /// <summary>OPTIMIZE writes files of at most this many rows. Default 1,000,000.</summary>
    public long TargetFileRows { get; set; } = 1_000_000;

    /// <summary>
    /// How long VACUUM keeps files that left the table (and orphan files), as Delta's
    /// <c>delta.deletedFileRetentionDuration</c>: older versions stay readable this long. Default 7 days.
    /// </summary>
    public TimeSpan VacuumRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often a table vacuums (and cleans its log) on its own. Default 6 hours.</summary>
    public TimeSpan VacuumInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// How long <c>_delta_log</c> commits and checkpoints are kept (Delta's <c>delta.logRetentionDuration</c>); what is
    /// needed to read from the newest such checkpoint always stays. Default 30 days.
    /// </summary>
    public TimeSpan LogRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How many times OPTIMIZE re-plans when a concurrent commit (DML, retention) removed one of its input files. Default 3.</summary>
    public int MaxOptimizeAttempts { get; set; } = 3;

    /// <summary>
    /// DuckDB worker threads of OPTIMIZE's rewrite, which runs in a DuckDB instance of its own (not the buffer database, whose
    /// threads ingest and queries use). Default 1: compaction is background work and must not take the cores from ingest.
    /// </summary>
    public int OptimizeThreads { get; set; } = 1;

    /// <summary>Memory limit of OPTIMIZE's DuckDB instance (its sort spills to disk beyond it). Default 512 MiB.</summary>
    public long OptimizeMemoryBytes { get; set; } = 512L << 20;

    /// <summary>
    /// The Linux niceness (0–19) of the thread that runs OPTIMIZE's rewrite, so that it yields the cores to ingest and
    /// queries when they are busy. 0 keeps the normal priority. Default 10.
    /// </summary>
    public int OptimizeNice { get; set; } = 10;

    /// <summary>
    /// Whether the thread that runs OPTIMIZE's rewrite is put in Linux's idle scheduling class (<c>SCHED_IDLE</c>) and
    /// idle I/O class (<c>IOPRIO_CLASS_IDLE</c>): it then gets a core and the disk only when nothing else wants them, so
    /// ingest and queries keep theirs (niceness still leaves it a share of a busy core). Default false: measured on a
    /// quiet 2-core machine, niceness alone already kept ingest's drop near 0 %, while the idle class halved OPTIMIZE's
    /// rate and starved it completely (no progress in 7 minutes) once ingest kept both cores busy (docs/BENCHMARKS.md).
    /// Where the kernel refuses, <see cref="OptimizeNice"/> alone applies.
    /// </summary>
    public bool OptimizeIdlePriority { get; set; }

    /// <summary>The clock for retention cut-offs and file ages.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;
}
