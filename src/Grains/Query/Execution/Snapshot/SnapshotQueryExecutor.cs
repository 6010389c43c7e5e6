using System.Diagnostics;
using System.Runtime.CompilerServices;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.DuckDb;
using TimeFusion.Engine;
using TimeFusion.Query.Planning;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Execution;

/// <summary>
/// Runs a grain's part of a query (a statement planned by <see cref="QueryAnalyzer"/>: the whole statement, the partial
/// aggregation, or a scan) over one <see cref="TableSnapshot"/>, on the snapshot's own DuckDB connection so that it
/// reads the snapshot's pinned buffer transaction. The table name is bound to the snapshot's rows
/// (<see cref="SnapshotRelation"/>: buffer rows plus the Delta files left after pruning by date partition and
/// timestamp statistics) through a CTE (<see cref="StatementBinder"/>). <c>ORDER BY timestamp DESC LIMIT n</c> reads
/// the newest files first and stops as soon as no other file can change the answer (<see cref="NewestFirstPlan"/>).
/// Results are Arrow (JSON columns stay utf8), in large batches; timestamps are rendered in UTC. Queries on one snapshot
/// run one at a time. A statement that DuckDB aborts at run time, or that is cancelled, aborts the snapshot's
/// transaction: later statements on that snapshot fail with <c>25P02</c> (take a new snapshot).
/// </summary>
public sealed class SnapshotQueryExecutor
{
    private static readonly ConditionalWeakTable<BufferSnapshot, SemaphoreSlim> Gates = new();
    private static readonly ConditionalWeakTable<DeltaSnapshot, TableSchema> Schemas = new();
    private readonly ExecutionOptions _options;

    /// <summary>Creates an executor.</summary>
    public SnapshotQueryExecutor(ExecutionOptions? options = null)
    {
        _options = options ?? new ExecutionOptions();
        _options.Validate();
    }

    /// <summary>
    /// Runs <paramref name="sql"/> with <paramref name="tableName"/> bound to the snapshot's rows. The table schema comes
    /// from the snapshot's Delta metadata.
    /// </summary>
    /// <param name="snapshot">The grain's snapshot (not disposed here).</param>
    /// <param name="store">The object store of the snapshot's Delta table (data files are read from local paths it gives).</param>
    /// <param name="tableName">The canonical table name the statement uses.</param>
    /// <param name="sql">The statement (one SELECT; it may start with WITH).</param>
    /// <param name="time">The reachable timestamp range, for pruning (may be wider than the statement's, never narrower).</param>
    /// <param name="newestFirstLimit">LIMIT + OFFSET when the statement orders by timestamp DESC and the planner allows newest-first reads.</param>
    /// <param name="cancellationToken">Interrupts the running statement.</param>
    /// <exception cref="QueryExecutionException">DuckDB refused or aborted the statement.</exception>
    public async Task<QueryBatches> ExecuteAsync(TableSnapshot snapshot, IObjectStore store, string tableName, string sql, TimeRange time,
        long? newestFirstLimit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var schema = Schemas.GetValue(snapshot.Delta, d => d.TryGetTableSchema()
            ?? throw new QueryExecutionException(SqlState.InternalError, $"the Delta table at '{d.TableRoot}' was not created by TimeFusion and has no table schema"));
        return (await ExecuteDetailedAsync(snapshot, schema, store, tableName, sql, time, newestFirstLimit, cancellationToken)).Batches;
    }

    /// <summary>
    /// As <see cref="ExecuteAsync"/>, with the table schema given (the grain's engine knows it) and what the run read.
    /// </summary>
    public async Task<(QueryBatches Batches, SnapshotQueryStats Stats)> ExecuteDetailedAsync(TableSnapshot snapshot, TableSchema schema,
        IObjectStore store, string tableName, string sql, TimeRange time, long? newestFirstLimit, CancellationToken cancellationToken, string? timeZone = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        ArgumentException.ThrowIfNullOrEmpty(sql);
        var clock = Stopwatch.StartNew();
        var all = snapshot.Delta.Files;
        var candidates = time.IsEmpty
            ? []
            : DeltaFilePruning.Select(snapshot.Delta, time.FromDate, time.ToDate, time.MinMicros, time.MaxMicros);
        var attempts = newestFirstLimit is { } n
            ? NewestFirstPlan.Attempts(candidates, n, _options)
            : [new NewestFirstPlan.Attempt(DeltaFilePruning.NewestFirst(candidates), null)];
        var expectedRows = newestFirstLimit is { } m && attempts.Count > 1 ? StatementBinder.TopLevelLimit(sql, m) : 0;

        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        var gate = Gates.GetValue(snapshot.Buffer, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var a = 0; a < attempts.Count; a++)
            {
                var attempt = attempts[a];
                var files = await LocalPathsAsync(snapshot.Delta, store, attempt.Files, paths, cancellationToken).ConfigureAwait(false);
                // Rows past the table's retention are not returned, whether buffered or still in a Delta file.
                var cutoff = (attempt.CutoffMicros, snapshot.RetentionCutoffMicros) switch
                {
                    ({ } limit, { } ttl) => Math.Max(limit, ttl),
                    (var limit, var ttl) => limit ?? ttl,
                };
                var relation = SnapshotRelation.Build(schema, snapshot.Buffer.Relation, files, cutoff, DeltaSchemaEvolution.AddedColumns(snapshot.Delta));
                var bound = StatementBinder.Bind(sql, tableName, relation);
                var result = await RunAsync(snapshot.Buffer, bound, timeZone, cancellationToken).ConfigureAwait(false);
                var last = a == attempts.Count - 1;
                if (last || result.RowCount == expectedRows)
                {
                    var stats = new SnapshotQueryStats(all.Count, candidates.Count, attempt.Files.Count, a + 1, attempt.CutoffMicros, clock.Elapsed);
                    return (result, stats);
                }
                result.Dispose(); // fell short of the limit: an older file may hold part of the answer
            }
            throw new InvalidOperationException("no attempt ran"); // unreachable: the last attempt always returns
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Starts <paramref name="sql"/> over the snapshot and returns its result as a stream (<see cref="QueryStream"/>): the
    /// statement holds one batch at a time (at most <see cref="ExecutionOptions.StreamBatchBytes"/>, about), however large
    /// its result. The snapshot's turn is held until the stream is disposed; dispose it before the snapshot. Newest-first
    /// reads (which may run again over more files) use <see cref="ExecuteDetailedAsync"/> instead.
    /// </summary>
    /// <exception cref="QueryExecutionException">DuckDB refused the statement.</exception>
    public async Task<QueryStream> OpenStreamAsync(TableSnapshot snapshot, TableSchema schema, IObjectStore store, string tableName, string sql,
        TimeRange time, CancellationToken cancellationToken, string? timeZone = null, long batchBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        // A smaller batch asked for by the gateway (a door merging many grains) wins over the silo's.
        var streamBatchBytes = batchBytes > 0 && (_options.StreamBatchBytes == 0 || batchBytes < _options.StreamBatchBytes) ? batchBytes : _options.StreamBatchBytes;
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        ArgumentException.ThrowIfNullOrEmpty(sql);
        var candidates = time.IsEmpty
            ? []
            : DeltaFilePruning.Select(snapshot.Delta, time.FromDate, time.ToDate, time.MinMicros, time.MaxMicros);
        var files = await LocalPathsAsync(snapshot.Delta, store, DeltaFilePruning.NewestFirst(candidates),
            new Dictionary<string, string>(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        var relation = SnapshotRelation.Build(schema, snapshot.Buffer.Relation, files, snapshot.RetentionCutoffMicros, DeltaSchemaEvolution.AddedColumns(snapshot.Delta));
        var bound = StatementBinder.Bind(sql, tableName, relation);
        var gate = Gates.GetValue(snapshot.Buffer, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = snapshot.Buffer.Connection;
            var stream = await Task.Run(() =>
            {
                SetTimeZone(connection, timeZone);
                try
                {
                    return DuckDbResultStream.Open(connection, bound, _options.TargetBatchRows, streamBatchBytes, _options.MaxResultBytes, cancellationToken);
                }
                catch (DuckDbSqlException e)
                {
                    throw ExecutionErrors.From(e);
                }
            }, cancellationToken).ConfigureAwait(false);
            return new QueryStream(stream, () => gate.Release());
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>
    /// EXPLAIN of a grain's part: DuckDB's physical plan of the statement bound to the same relation a run reads
    /// (buffer plus the Delta files <paramref name="time"/> keeps). Returns the plan's lines and the file counts.
    /// </summary>
    public async Task<(IReadOnlyList<string> Plan, int SnapshotFiles, int FilesKept)> ExplainAsync(TableSnapshot snapshot, TableSchema schema,
        IObjectStore store, string tableName, string sql, TimeRange time, CancellationToken cancellationToken, string? timeZone = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(schema);
        var candidates = time.IsEmpty
            ? []
            : DeltaFilePruning.Select(snapshot.Delta, time.FromDate, time.ToDate, time.MinMicros, time.MaxMicros);
        var files = await LocalPathsAsync(snapshot.Delta, store, candidates, new Dictionary<string, string>(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        var relation = SnapshotRelation.Build(schema, snapshot.Buffer.Relation, files, snapshot.RetentionCutoffMicros, DeltaSchemaEvolution.AddedColumns(snapshot.Delta));
        var bound = StatementBinder.Bind(sql, tableName, relation);
        var gate = Gates.GetValue(snapshot.Buffer, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var result = await RunAsync(snapshot.Buffer, "EXPLAIN " + bound, timeZone, cancellationToken).ConfigureAwait(false);
            var lines = new List<string>();
            foreach (var batch in result.Batches)
            {
                // DuckDB answers (explain_key, explain_value): the plan is the value's text.
                if (batch.Column(batch.ColumnCount - 1) is not Apache.Arrow.StringArray plan) continue;
                for (var i = 0; i < plan.Length; i++)
                    lines.AddRange((plan.GetString(i) ?? "").Split('\n').Where(l => l.Trim().Length > 0).Select(l => l.TrimEnd()));
            }
            return (lines, snapshot.Delta.Files.Count, candidates.Count);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<QueryBatches> RunAsync(BufferSnapshot buffer, string sql, string? timeZone, CancellationToken cancellationToken)
    {
        var connection = buffer.Connection;
        var targetRows = _options.TargetBatchRows;
        return await Task.Factory.StartNew(() =>
        {
            SetTimeZone(connection, timeZone);
            // Gathered whole on the grain: also one statement's results (StatementMemoryBytes).
            var (cap, setting) = new StatementMemory(_options.StatementMemoryBytes).ResultCap(_options.MaxResultBytes);
            return ExecutionErrors.Run(connection, sql, targetRows, cancellationToken, cap, setting);
        }, cancellationToken, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).ConfigureAwait(false);
    }

    private static void SetTimeZone(DuckDB.NET.Data.DuckDBConnection connection, string? timeZone)
    {
        // The statement's session zone (UTC by default) on this connection, so that no zone left on a pooled connection
        // changes how timestamps are rendered or truncated.
        try
        {
            SessionTimeZone.Set(connection, timeZone);
        }
        catch (DuckDB.NET.Data.DuckDBException e) when (e.Message.Contains("transaction is aborted", StringComparison.OrdinalIgnoreCase))
        {
            // DuckDB aborts a transaction that a statement failed in at run time or that was interrupted.
            throw new QueryExecutionException(SqlState.InFailedSqlTransaction,
                "this snapshot can no longer be read: an earlier statement on it failed or was cancelled, which aborted its transaction; take a new snapshot");
        }
        catch (DuckDB.NET.Data.DuckDBException e)
        {
            throw ExecutionErrors.FromDuckDb(e.Message, "setting the session time zone");
        }
    }

    private static async Task<List<(AddFile File, string LocalPath)>> LocalPathsAsync(DeltaSnapshot delta, IObjectStore store,
        IReadOnlyList<AddFile> files, Dictionary<string, string> known, CancellationToken cancellationToken)
    {
        var missing = files.Where(f => !known.ContainsKey(f.Path)).ToList();
        if (missing.Count > 0)
        {
            // Remote stores download into their cache: fetch the files of this attempt concurrently.
            var fetched = await Task.WhenAll(missing.Select(f => store.GetLocalPathAsync(delta.ObjectPath(f), cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < missing.Count; i++)
                known[missing[i].Path] = fetched[i];
        }
        return files.Select(f => (f, known[f.Path])).ToList();
    }
}
