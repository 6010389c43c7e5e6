using Orleans.Concurrency;
using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// The single writer of one (project, table), keyed <c>"{project}/{table}"</c> (see <see cref="TableGrainKey"/>):
/// owns its memory reservation, WAL segment, buffered rows and Delta table (DESIGN.md §1).
/// </summary>
public interface ITableGrain : IGrainWithStringKey
{
    /// <summary>Validates, logs durably and buffers a batch; returns its LSN once it is durable and visible.</summary>
    [AlwaysInterleave]
    Task<long> InsertAsync(RecordBatch batch);

    /// <summary>
    /// Runs <c>DELETE</c> (no assignments) or <c>UPDATE</c> on this table's buffer and Delta files, atomically,
    /// logged first; returns rows affected. The predicate is confined to this grain's project.
    /// </summary>
    Task<long> ExecuteDmlAsync(DmlRequest request);

    /// <summary>Persists every buffered row to Delta; returns once committed.</summary>
    Task<FlushReply> FlushAsync();

    /// <summary>
    /// Runs this grain's part of a query over a consistent snapshot (buffer + Delta). Cancelling
    /// <paramref name="cancellationToken"/> (the caller's timeout, cancel or disconnect) interrupts DuckDB.
    /// </summary>
    [AlwaysInterleave]
    Task<ArrowBatches> QueryAsync(GrainQuery query, CancellationToken cancellationToken = default);

    /// <summary>Counters for monitoring and tests.</summary>
    [AlwaysInterleave]
    Task<TableGrainStatus> GetStatusAsync();
}

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
    [property: Id(3)] long? NewestFirstLimit);

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

/// <summary>What a flush did.</summary>
/// <param name="FlushedThroughLsn">Every entry up to this LSN is in Delta.</param>
/// <param name="DeltaVersion">The committed version, or null when there was nothing to flush.</param>
/// <param name="Rows">Rows persisted.</param>
[GenerateSerializer, Immutable]
public sealed record FlushReply([property: Id(0)] long FlushedThroughLsn, [property: Id(1)] long? DeltaVersion, [property: Id(2)] long Rows);

/// <summary>A table grain's counters (<c>DmlFilesRead</c>: Delta files read by UPDATE/DELETE since activation).</summary>
[GenerateSerializer, Immutable]
public sealed record TableGrainStatus(
    [property: Id(0)] long AppliedThroughLsn,
    [property: Id(1)] long FlushedThroughLsn,
    [property: Id(2)] long BufferedRows,
    [property: Id(3)] long BufferedBytes,
    [property: Id(4)] long DeltaVersion,
    [property: Id(5)] long RecoveredEntries,
    [property: Id(6)] long DmlFilesRead = 0);
