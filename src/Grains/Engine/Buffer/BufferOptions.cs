namespace TimeFusion.Buffer;

/// <summary>Settings of the silo-wide buffer database and its memory budget.</summary>
public sealed class BufferOptions
{
    /// <summary>DuckDB's <c>memory_limit</c>: everything DuckDB holds (buffer tables and query working memory). Default 4 GiB.</summary>
    public long MemoryLimitBytes { get; set; } = 4L << 30;

    /// <summary>DuckDB's worker threads (<c>threads</c>). Default: the processor count.</summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Where DuckDB may spill when <see cref="MemoryLimitBytes"/> is reached. Null or empty: never spill
    /// (<c>temp_directory = ''</c>), so an allocation past the limit fails instead of silently writing to
    /// the working directory; the budget's hard limit keeps buffers below the limit.
    /// </summary>
    public string? TempDirectory { get; set; }

    /// <summary>Budget level past which tables should flush early (<see cref="MemoryBudget.IsOverSoftLimit"/>). Default 1.5 GiB.</summary>
    public long SoftLimitBytes { get; set; } = 3L << 29;

    /// <summary>Budget level no reservation may pass; writers wait, then fail with <see cref="MemoryPressureException"/>. Default 2.5 GiB.</summary>
    public long HardLimitBytes { get; set; } = 5L << 29;

    /// <summary>
    /// Bytes DuckDB holds per byte of Arrow data appended, for the estimate taken before an append
    /// (measured: 1,004 MiB held for 901 MiB of Arrow before CHECKPOINT). Reconciliation corrects the rest.
    /// </summary>
    public double EstimateFactor { get; set; } = 1.25;

    /// <summary>How long <see cref="BufferTable.AppendAsync(TimeFusion.Ingest.ValidatedBatch, long, CancellationToken)"/> waits for memory before failing. Default 5 s.</summary>
    public TimeSpan ReserveMaxWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Rows per DataChunk handed to DuckDB when appending (larger batches are sliced, zero-copy). Default 8,192.</summary>
    public int RowsPerChunk { get; set; } = 8192;

    /// <summary>
    /// Check in C# that strings of batches validated for a buffer table (<see cref="TimeFusion.Ingest.BatchValidator.ValidateRows"/>)
    /// are valid UTF-8, for an error naming the column (ingest always checks). Default false: DuckDB
    /// checks every string itself while appending ("Invalid unicode … detected in segment statistics update")
    /// and rejects the whole batch, so this only buys a better message (at ~8% of append throughput).
    /// </summary>
    public bool ValidateUtf8 { get; set; }

    /// <summary>
    /// Compress a sealed generation again in the background after a DELETE or UPDATE changed it (only CHECKPOINT
    /// returns deleted rows' memory). Flushed generations are detached instead, which needs no checkpoint. Default true.
    /// </summary>
    public bool CheckpointAfterDelete { get; set; } = true;

    /// <summary>
    /// Rows after which a table's generation taking appends is sealed. A sealed generation is then, in the
    /// background and without ever blocking appends, merged into the table's compressed base generation (or made
    /// the base) and compressed by a CHECKPOINT; so a table holds about two generations (each one adds ~0.5 ms of
    /// planning to every query over the buffer) and at most this many uncompressed rows (about 1 KB each for the
    /// otel schema; ~110 B compressed). Default 122,880 (one DuckDB row group).
    /// </summary>
    public int GenerationRows { get; set; } = 122_880;

    /// <summary>
    /// Live writes: rows of concurrent inserts into one table that one buffer transaction may take together: a writer
    /// whose turn it is appends the batches of the writers queued behind it with its own, so they share one buffer
    /// append. A batch larger than this still goes alone. 0 = each batch in its own transaction. Default 65,536.
    /// WAL replay groups by <see cref="ReplayCoalescedRows"/> instead.
    /// </summary>
    public int MaxCoalescedRows { get; set; } = 65_536;

    /// <summary>
    /// WAL replay: rows of consecutive logged inserts appended in one buffer transaction while a table recovers (few
    /// transactions for a large WAL; the applier overlaps the reader's decoding). Independent of
    /// <see cref="MaxCoalescedRows"/>, which only sets live coalescing. 0 = each entry in its own transaction.
    /// Default 65,536.
    /// </summary>
    public int ReplayCoalescedRows { get; set; } = 65_536;

    /// <summary>
    /// Rows of logged batches a table holds as Arrow — read by queries through <c>tf_arrow_scan</c> and written by a
    /// flush straight from there — before moving them into DuckDB's compressed generations in one transaction (see
    /// <see cref="BufferTable.DrainTailAsync"/>). A DML statement moves them first, whatever their number. Past the
    /// flush thresholds this only matters when flushes fall behind: DuckDB then holds the rows in about a tenth of the
    /// memory. 0 = every batch goes to DuckDB at once. Default 1,048,576.
    /// </summary>
    public int TailRows { get; set; } = 1_048_576;

    /// <summary>
    /// Merge and compress sealed generations in the background (default true). When false they stay uncompressed
    /// until <see cref="BufferTable.CheckpointAsync"/> or <see cref="BufferDatabase.CheckpointAsync"/> is called.
    /// </summary>
    public bool CompressInBackground { get; set; } = true;

    /// <summary>Background compressions (CHECKPOINTs) allowed to run at once. Default 1 (they compete with appends for the cores).</summary>
    public int MaxConcurrentCheckpoints { get; set; } = 1;

    /// <summary>Wait before retrying a background CHECKPOINT that DuckDB deferred (an UPDATE's old versions still visible to an open snapshot). Default 500 ms.</summary>
    public TimeSpan CheckpointRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often to reconcile the budget with DuckDB's own memory figures; zero disables the timer. Default 2 s.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Idle pooled connections kept for snapshots, exports and DML. Default 16.</summary>
    public int MaxIdleConnections { get; set; } = 16;

    /// <summary>Longest string kept in min/max statistics of exported files (longer ones are truncated). Default 32.</summary>
    public int MaxStatsStringLength { get; set; } = 32;

    /// <summary>
    /// Whether a flush writes rows of the tail that are in timestamp order with ParquetSharp's Arrow writer (no pass
    /// through DuckDB; ~25 % less export CPU) rather than DuckDB's <c>COPY … TO parquet</c>. Default true.
    /// </summary>
    public bool ArrowWriterExport { get; set; } = true;

    /// <summary>
    /// Niceness (0–19) of a flush's Parquet export: of the thread that writes the files and of Arrow's pool threads that
    /// encode its columns (<see cref="ArrowCpuPool"/>). The export still uses every core nothing else wants; acknowledgements
    /// get a contended core first. A flush that starts behind (<see cref="FallingBehindFraction"/>) and a COPY's spill run
    /// at normal priority, and a lowered export is raised to normal the moment its table falls behind while it runs
    /// (rows appended past the mark; <see cref="ExportPriority"/>), so that a closed loop of writers cannot outrun it.
    /// Exports are lowered only where the OS lets the process raise a thread again (root, <c>CAP_SYS_NICE</c> or
    /// <c>RLIMIT_NICE</c>; probed once): elsewhere a lowered export that fell behind could not catch up, which lost a
    /// third of the closed loop's maximum when the priority was decided once at an export's start (docs/BENCHMARKS.md,
    /// session 13). Session 16 (loaded 2-core host, 5 pairs): at 10 with the raise, the maximum was never below nice 0's
    /// (median 272 K against 109 K rows/s), the closed loop's exports were raised (26 of 32, 40 of 45, 41 of 45) while
    /// at half the rate they mostly stayed lowered (36 of 40, 38 of 38, 37 of 39), and an ack with exports running cost
    /// about half as much.
    /// Default 10; 0 = normal priority always.
    /// </summary>
    public int ExportNice { get; set; } = 10;

    /// <summary>
    /// The share of <see cref="TailRows"/> from which a table's flush counts as falling behind: its export then runs at
    /// normal priority on every core whatever <see cref="ExportNice"/> and <see cref="ExportOnOneThread"/> say — from its
    /// start, or from the moment the tail crosses the mark while a lowered export runs — so that a closed loop of writers
    /// cannot outrun lowered flushes. The tail still holds the rows being exported, so at the default the mark is crossed
    /// when about another flush's worth of rows arrived during an export of the suite's size. Default 0.5; (0, 1].
    /// </summary>
    public double FallingBehindFraction { get; set; } = 0.5;

    /// <summary>
    /// Flush exports (Parquet encoding) running at once on the silo; 0 = no limit (each table's flush exports when due).
    /// The tables of a steady ingest come due together, and their exports side by side took every core while they ran:
    /// an acknowledgement's steps in the engine then took 4–15 times as long (docs/BENCHMARKS.md, session 12). A COPY's
    /// spill, which its statement waits for, is not counted. Default 0: on a quiet 2-core machine one slot with
    /// <see cref="ExportOnOneThread"/> lowered the maximum sustained rate by a quarter and raised the ack p99 at half
    /// of it 3–100× (the flushes fell behind); it helped only on a machine loaded by other processes.
    /// </summary>
    public int MaxConcurrentExports { get; set; }

    /// <summary>
    /// Whether a flush's export with the Arrow writer encodes the columns on its own thread only, rather than also on
    /// Arrow's thread pool (every core): with <see cref="MaxConcurrentExports"/> 1 the exports then keep to one core and
    /// leave the others to acknowledgements. A flush falling behind (<see cref="FallingBehindFraction"/>) uses
    /// the pool whatever this says. Default false (see <see cref="MaxConcurrentExports"/>).
    /// </summary>
    public bool ExportOnOneThread { get; set; }

    /// <summary>
    /// With <see cref="ArrowWriterExport"/>: whether tail rows not in timestamp order (concurrent writers, late rows)
    /// are also written by the Arrow writer, put in timestamp order in C#, rather than sorted and written by DuckDB. Default true.
    /// </summary>
    public bool ArrowSortExport { get; set; } = true;

    /// <summary>
    /// Whether a flush leaves out of each Parquet file the nullable columns that are null in every row of it (never
    /// <c>timestamp</c>, the sort key, nor a NOT NULL column); its Delta statistics say so (null count = row count), and
    /// readers take a missing column as NULL, as the Delta protocol asks. parquet-cpp counts and encodes a definition
    /// level per value of such a column: for otel rows, ~79 of them, 12.5 % of a silo's CPU at the maximum ingest rate
    /// (docs/BENCHMARKS.md, session 12). Default true; false writes every column (A/B).
    /// </summary>
    public bool OmitNullColumns { get; set; } = true;

    /// <summary>Throws when the options contradict each other.</summary>
    public void Validate()
    {
        if (MemoryLimitBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(MemoryLimitBytes), MemoryLimitBytes, "must be positive");
        if (Threads <= 0)
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "must be positive");
        if (HardLimitBytes <= 0 || HardLimitBytes > MemoryLimitBytes)
            throw new ArgumentOutOfRangeException(nameof(HardLimitBytes), HardLimitBytes, "must be positive and at most MemoryLimitBytes");
        if (SoftLimitBytes <= 0 || SoftLimitBytes > HardLimitBytes)
            throw new ArgumentOutOfRangeException(nameof(SoftLimitBytes), SoftLimitBytes, "must be positive and at most HardLimitBytes");
        if (!(EstimateFactor > 0) || double.IsInfinity(EstimateFactor))
            throw new ArgumentOutOfRangeException(nameof(EstimateFactor), EstimateFactor, "must be a positive number");
        if (ReserveMaxWait < TimeSpan.Zero && ReserveMaxWait != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(ReserveMaxWait), ReserveMaxWait, "must not be negative");
        if (RowsPerChunk is < 1 or > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(RowsPerChunk), RowsPerChunk, "must be between 1 and 1,048,576");
        if (GenerationRows < 1)
            throw new ArgumentOutOfRangeException(nameof(GenerationRows), GenerationRows, "must be positive");
        if (ExportNice is < 0 or > 19)
            throw new ArgumentOutOfRangeException(nameof(ExportNice), ExportNice, "must be between 0 and 19");
        if (!(FallingBehindFraction > 0 && FallingBehindFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(FallingBehindFraction), FallingBehindFraction, "must be above 0 and at most 1");
        if (MaxConcurrentExports < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentExports), MaxConcurrentExports, "must not be negative (0: no limit)");
        if (TailRows < 0)
            throw new ArgumentOutOfRangeException(nameof(TailRows), TailRows, "must not be negative");
        if (MaxCoalescedRows < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxCoalescedRows), MaxCoalescedRows, "must not be negative");
        if (ReplayCoalescedRows < 0)
            throw new ArgumentOutOfRangeException(nameof(ReplayCoalescedRows), ReplayCoalescedRows, "must not be negative");
        if (MaxConcurrentCheckpoints < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentCheckpoints), MaxConcurrentCheckpoints, "must be positive");
        if (CheckpointRetryDelay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(CheckpointRetryDelay), CheckpointRetryDelay, "must not be negative");
        if (ReconcileInterval < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ReconcileInterval), ReconcileInterval, "must not be negative");
        if (MaxIdleConnections < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxIdleConnections), MaxIdleConnections, "must not be negative");
        if (MaxStatsStringLength < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxStatsStringLength), MaxStatsStringLength, "must be positive");
    }
}
