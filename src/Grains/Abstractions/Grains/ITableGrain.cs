using Orleans.Concurrency;
using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// The single writer of one (project, table), keyed <c>"{project}/{table}"</c> (see <see cref="TableGrainKey"/>):
/// owns its memory reservation, WAL segment, buffered rows and Delta table (DESIGN.md §1).
/// </summary>
/// <remarks>
/// Batches are <see cref="ImmutableAttribute">[Immutable]</see> parameters: a call inside one silo passes the caller's
/// batch itself, not an IPC-encoded copy (it was two encodes and two decodes per INSERT). The rule that makes this safe:
/// a caller never changes a batch it has passed, nor returns its buffers to a pool while the call may still run (even
/// after it stopped waiting); the grain copies whatever it keeps past the call (the WAL entry, the buffer's pinned copy).
/// </remarks>
public interface ITableGrain : IGrainWithStringKey
{
    /// <summary>Validates, logs durably and buffers a batch; returns its LSN once it is durable and visible.</summary>
    [AlwaysInterleave]
    Task<long> InsertAsync([Immutable] RecordBatch batch);

    /// <summary>
    /// Opens write transaction <paramref name="transaction"/> (id chosen by the caller, e.g. one per COPY) on this
    /// table. Its rows are staged with <see cref="StageAsync"/>, invisible and bounded in memory (spilled to unreferenced
    /// Parquet files), until <see cref="CommitTransactionAsync"/> adds them all in one Delta commit. A transaction idle
    /// longer than <c>TimeFusion:Ingest:TransactionIdleTimeout</c>, or open when the grain deactivates, is aborted.
    /// </summary>
    [AlwaysInterleave]
    Task BeginTransactionAsync(Guid transaction);

    /// <summary>
    /// Validates and stages one chunk of an open transaction (rejecting the chunk whole); returns the rows staged so far.
    /// Fails with a retryable 40001 when the transaction is not open here (aborted, timed out, lost with an activation).
    /// </summary>
    [AlwaysInterleave]
    Task<long> StageAsync(Guid transaction, [Immutable] RecordBatch batch);

    /// <summary>
    /// Writes what the transaction still holds in memory to its unreferenced Parquet files, so that the commit is only
    /// the Delta commit: a COPY over several projects prepares them all side by side, then commits them one after
    /// another. Nothing becomes visible; the transaction stays open (and can still be aborted).
    /// </summary>
    [AlwaysInterleave]
    Task PrepareTransactionAsync(Guid transaction);

    /// <summary>Makes every staged row of the transaction visible at once (one Delta commit); returns the rows committed.</summary>
    [AlwaysInterleave]
    Task<long> CommitTransactionAsync(Guid transaction);

    /// <summary>Drops the transaction's staged rows and files; an unknown transaction is ignored.</summary>
    [AlwaysInterleave]
    Task AbortTransactionAsync(Guid transaction);

    /// <summary>
    /// Runs <c>DELETE</c> (no assignments) or <c>UPDATE</c> on this table's buffer and Delta files, atomically,
    /// logged first; returns rows affected. The predicate is confined to this grain's project.
    /// <paramref name="cancellationToken"/> (the statement's timeout, a cancel request, a lost client) interrupts DuckDB
    /// while the statement is checked and the Delta files rewritten, before anything is logged; once logged the statement
    /// applies whole. Either way nothing is half applied.
    /// </summary>
    Task<long> ExecuteDmlAsync(DmlRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Commits a transaction block's writes to this (project, table) atomically: its inserts and DELETE/UPDATE statements
    /// (each confined to this grain's project) in block order, logged as one WAL entry, so a crash at any moment leaves all
    /// of them or none after recovery. Refused whole, nothing logged, when a row or a statement is bad. Returns rows
    /// inserted plus rows affected.
    /// </summary>
    Task<long> CommitBlockAsync(IReadOnlyList<BlockWrite> writes, CancellationToken cancellationToken = default);

    /// <summary>Persists every buffered row to Delta; returns once committed.</summary>
    Task<FlushReply> FlushAsync();

    /// <summary>
    /// Runs this grain's part of a query over a consistent snapshot (buffer + Delta). Cancelling
    /// <paramref name="cancellationToken"/> (the caller's timeout, cancel or disconnect) interrupts DuckDB.
    /// </summary>
    [AlwaysInterleave]
    Task<ArrowBatches> QueryAsync(GrainQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="QueryAsync"/>, answered with the silo this grain runs on: what a fan-out over several grains uses, so
    /// the gateway can send the grains of one silo their parts together (<see cref="ISiloQueryGrain"/>).
    /// </summary>
    [AlwaysInterleave]
    Task<GrainQueryAnswer> QueryPartAsync(GrainQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs this grain's part of a query over a consistent snapshot and streams its result: the first element carries
    /// the schema and no rows, each later one a batch of rows (bounded by <c>TimeFusion:Execution:StreamBatchBytes</c>).
    /// The grain computes a batch only when the caller asks for the next one (backpressure), so it holds one batch
    /// however large the result. Cancelling, or abandoning the enumeration, interrupts DuckDB and frees the result and
    /// the snapshot. <see cref="GrainQuery.NewestFirstLimit"/> must be null (newest-first reads use <see cref="QueryAsync"/>).
    /// Read it with <see cref="QueryResultStream"/>.
    /// </summary>
    IAsyncEnumerable<ArrowBatches> QueryStreamAsync(GrainQuery query, CancellationToken cancellationToken = default);

    /// <summary>Counters for monitoring and tests.</summary>
    [AlwaysInterleave]
    Task<TableGrainStatus> GetStatusAsync();

    /// <summary>
    /// OPTIMIZE: merges the small files of the date partitions in the request's range. Interleaves with every other
    /// call (ingest, flush, DML, queries go on while it rewrites); it commits with optimistic concurrency.
    /// </summary>
    [AlwaysInterleave]
    Task<OptimizeReply> OptimizeAsync(OptimizeRequest request);

    /// <summary>VACUUM: applies the retention, deletes unreferenced files older than the window, cleans the log.</summary>
    [AlwaysInterleave]
    Task<VacuumReply> VacuumAsync(VacuumRequest request);

    /// <summary>
    /// DROP TABLE for this (project, table): closes the engine and deletes its WAL and Delta table, then deactivates.
    /// A later activation (a table re-created under the same name) starts empty. Returns the objects deleted.
    /// </summary>
    Task<int> DropAsync();

    /// <summary>
    /// Takes on the catalog's current definition of the table (after <c>ALTER TABLE … ADD COLUMN</c>): when it differs
    /// from the open engine's, the activation closes its engine without flushing and deactivates; the next call opens
    /// the table with the new schema, replaying the WAL (rows logged before the column read it as NULL) and recording
    /// the new schema in Delta. Not interleaved: writes in flight finish first, later calls reach the new activation.
    /// </summary>
    Task TakeSchemaAsync();

    /// <summary>
    /// EXPLAIN of this grain's part of a query: DuckDB's plan over the snapshot, the Delta files kept and pruned and
    /// the buffered rows; with <paramref name="analyze"/> the part also runs and its rows and time are reported.
    /// </summary>
    [AlwaysInterleave]
    Task<GrainExplain> ExplainAsync(GrainQuery query, bool analyze, CancellationToken cancellationToken = default);

    /// <summary>Sets this (project, table)'s effective retention (null keeps everything); it applies to queries at once.</summary>
    [AlwaysInterleave]
    Task SetRetentionAsync(TimeSpan? retention);
}

/// <summary>An OPTIMIZE of one table grain.</summary>
/// <param name="FromDate">First date partition to optimize, or null.</param>
/// <param name="ToDate">Last date partition to optimize, or null.</param>
[GenerateSerializer, Immutable]
public sealed record OptimizeRequest([property: Id(0)] DateOnly? FromDate, [property: Id(1)] DateOnly? ToDate);

/// <summary>What an OPTIMIZE did.</summary>
/// <param name="FilesRemoved">Small files merged away.</param>
/// <param name="FilesAdded">Files written.</param>
/// <param name="Rows">Rows rewritten.</param>
/// <param name="DeltaVersion">The last committed version, or null when nothing was committed.</param>
[GenerateSerializer, Immutable]
public sealed record OptimizeReply([property: Id(0)] int FilesRemoved, [property: Id(1)] int FilesAdded, [property: Id(2)] long Rows, [property: Id(3)] long? DeltaVersion);

/// <summary>A VACUUM of one table grain.</summary>
/// <param name="Retain">The retention window (<c>RETAIN n HOURS</c>), or null for the configured one.</param>
[GenerateSerializer, Immutable]
public sealed record VacuumRequest([property: Id(0)] TimeSpan? Retain);

/// <summary>What a VACUUM did.</summary>
/// <param name="FilesDeleted">Data files deleted.</param>
/// <param name="BytesDeleted">Their bytes.</param>
/// <param name="LogFilesDeleted">Old log files deleted.</param>
[GenerateSerializer, Immutable]
public sealed record VacuumReply([property: Id(0)] int FilesDeleted, [property: Id(1)] long BytesDeleted, [property: Id(2)] int LogFilesDeleted);

/// <summary>The grain's part of a planned query.</summary>
/// <param name="Sql">SQL naming the table by its canonical name.</param>
/// <param name="MinTimestampMicros">Inclusive lower time bound, for file pruning; null when unbounded.</param>
/// <param name="MaxTimestampMicros">Inclusive upper time bound; null when unbounded.</param>
/// <param name="NewestFirstLimit">The query is <c>ORDER BY timestamp DESC LIMIT n</c>: read newest files first.</param>
[GenerateSerializer, Immutable]
public sealed record GrainQuery(
    [property: Id(0)] string Sql,
    [property: Id(1)] long? MinTimestampMicros,
    [property: Id(2)] long? MaxTimestampMicros,
    [property: Id(3)] long? NewestFirstLimit)
{
    /// <summary>The session time zone the statement runs in (<see cref="Caller.TimeZone"/>); null is UTC.</summary>
    [Id(4)]
    public string? TimeZone { get; init; }

    /// <summary>
    /// Positions of the result columns that hold JSON (DuckDB's binder types them JSON); the grain marks them
    /// <c>arrow.json</c> in what it streams (<see cref="Wire.ArrowJsonFields"/>). Empty when none.
    /// </summary>
    [Id(5)]
    public IReadOnlyList<int> JsonColumns { get; init; } = [];

    /// <summary>
    /// A streamed part's batches end at about this many bytes when it is smaller than the grain's own
    /// <c>TimeFusion:Execution:StreamBatchBytes</c> (0: the grain's): a door that merges many grains' streams holds a
    /// batch or two of each, so the gateway asks for smaller ones to keep their sum within the statement's memory limit.
    /// </summary>
    [Id(6)]
    public long StreamBatchBytes { get; init; }
}

/// <summary>What one table grain reports for EXPLAIN.</summary>
/// <param name="DeltaFiles">Data files in the Delta snapshot.</param>
/// <param name="FilesKept">Files the time range kept (the rest were pruned).</param>
/// <param name="BufferRows">Rows in the buffer snapshot (all scanned).</param>
/// <param name="Plan">DuckDB's physical plan for the grain's part, one line per element.</param>
/// <param name="ActualRows">Rows the part returned (EXPLAIN ANALYZE), or null.</param>
/// <param name="ActualMilliseconds">Time the part took (EXPLAIN ANALYZE), or null.</param>
[GenerateSerializer, Immutable]
public sealed record GrainExplain(
    [property: Id(0)] int DeltaFiles,
    [property: Id(1)] int FilesKept,
    [property: Id(2)] long BufferRows,
    [property: Id(3)] IReadOnlyList<string> Plan,
    [property: Id(4)] long? ActualRows,
    [property: Id(5)] double? ActualMilliseconds);

/// <summary>A planned DELETE or UPDATE for one table grain.</summary>
/// <param name="IsUpdate">UPDATE when true, DELETE otherwise.</param>
/// <param name="Predicate">The WHERE clause as SQL, or null for every row.</param>
/// <param name="Assignments">UPDATE's SET list: column → SQL expression.</param>
/// <param name="MinTimestampMicros">The smallest <c>timestamp</c> the predicate can match (µs since the epoch), or null.</param>
/// <param name="MaxTimestampMicros">The largest <c>timestamp</c> the predicate can match, or null: Delta files outside
/// the range are not read.</param>
[GenerateSerializer, Immutable]
public sealed record DmlRequest(
    [property: Id(0)] bool IsUpdate,
    [property: Id(1)] string? Predicate,
    [property: Id(2)] IReadOnlyList<KeyValuePair<string, string>> Assignments,
    [property: Id(3)] long? MinTimestampMicros = null,
    [property: Id(4)] long? MaxTimestampMicros = null);

/// <summary>One write of a transaction block to one table grain: rows to insert, or a planned DELETE/UPDATE.</summary>
/// <param name="Rows">Rows to insert (exactly one of the two is set).</param>
/// <param name="Dml">A DELETE or UPDATE.</param>
[GenerateSerializer, Immutable]
public sealed record BlockWrite([property: Id(0)] RecordBatch? Rows, [property: Id(1)] DmlRequest? Dml);

/// <summary>What a flush did.</summary>
/// <param name="FlushedThroughLsn">Every entry up to this LSN is in Delta.</param>
/// <param name="DeltaVersion">The committed version, or null when there was nothing to flush.</param>
/// <param name="Rows">Rows persisted.</param>
[GenerateSerializer, Immutable]
public sealed record FlushReply([property: Id(0)] long FlushedThroughLsn, [property: Id(1)] long? DeltaVersion, [property: Id(2)] long Rows);

/// <summary>A table grain's counters (<c>DmlFilesRead</c>: Delta files read by UPDATE/DELETE since activation; <c>QuarantinedWalRegions</c>/<c>QuarantinedWalBytes</c>: WAL damage set aside when it opened).</summary>
[GenerateSerializer, Immutable]
public sealed record TableGrainStatus(
    [property: Id(0)] long AppliedThroughLsn,
    [property: Id(1)] long FlushedThroughLsn,
    [property: Id(2)] long BufferedRows,
    [property: Id(3)] long BufferedBytes,
    [property: Id(4)] long DeltaVersion,
    [property: Id(5)] long RecoveredEntries,
    [property: Id(6)] long DmlFilesRead = 0)
{
    /// <summary>The project.</summary>
    [Id(7)] public string Project { get; init; } = "";

    /// <summary>The table.</summary>
    [Id(8)] public string Table { get; init; } = "";

    /// <summary>Active Delta data files.</summary>
    [Id(9)] public long Files { get; init; }

    /// <summary>Their bytes.</summary>
    [Id(10)] public long Bytes { get; init; }

    /// <summary>Rows in Delta (from file statistics), or null when a file has none.</summary>
    [Id(11)] public long? Rows { get; init; }

    /// <summary>Active files below the small-file size (OPTIMIZE's input).</summary>
    [Id(12)] public long SmallFiles { get; init; }

    /// <summary>WAL bytes written since the grain activated.</summary>
    [Id(13)] public long WalBytes { get; init; }

    /// <summary>Last flush (from the Delta log), or null.</summary>
    [Id(14)] public DateTimeOffset? LastFlush { get; init; }

    /// <summary>Last OPTIMIZE (from the Delta log), or null.</summary>
    [Id(15)] public DateTimeOffset? LastOptimize { get; init; }

    /// <summary>Last VACUUM since the grain activated, or null.</summary>
    [Id(16)] public DateTimeOffset? LastVacuum { get; init; }

    /// <summary>The effective retention, or null (keep everything).</summary>
    [Id(17)] public TimeSpan? Retention { get; init; }

    /// <summary>The silo hosting the grain.</summary>
    [Id(18)] public string Silo { get; init; } = "";

    /// <summary>Damaged WAL regions moved aside into quarantine files when the table opened.</summary>
    [Id(19)] public long QuarantinedWalRegions { get; init; }

    /// <summary>Their bytes.</summary>
    [Id(20)] public long QuarantinedWalBytes { get; init; }

    /// <summary>Write transactions (streamed COPYs) open on the table.</summary>
    [Id(21)] public int OpenTransactions { get; init; }

    /// <summary>Bytes their staged rows hold in memory now (they spill to Parquet beyond a threshold).</summary>
    [Id(22)] public long StagedBytes { get; init; }
}
