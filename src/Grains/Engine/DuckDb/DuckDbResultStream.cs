using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.Wire;

namespace TimeFusion.DuckDb;

/// <summary>
/// One statement's result read a batch at a time (<see cref="Next"/>), so that a statement holds one batch of its result,
/// not all of it: DuckDB computes each chunk as it is fetched (a streaming pending result), chunks are converted to
/// Arrow and joined into batches of up to <c>targetRows</c> rows or <c>targetBytes</c> bytes, whichever comes first.
/// Holds the connection (and DuckDB's result) until disposed: the connection must not be used by anything else
/// meanwhile. The cancellation token given at <see cref="Open"/> interrupts the query for the stream's whole life.
/// Blocking; call it off the caller's thread, one call at a time.
/// </summary>
internal sealed class DuckDbResultStream : IDisposable
{
    private readonly ConnectionLease _lease;
    private readonly PreparedStatementHandle _prepared;
    private readonly PendingResultHandle _pending;
    private readonly DuckDbResultHandle _result;
    private readonly ArrowOptionsHandle _options;
    private readonly BatchCoalescer _coalescer;
    private readonly Queue<RecordBatch> _ready = new();
    private readonly long _targetBytes;
    private readonly long _maxBatchBytes;
    private readonly CancellationToken _cancellationToken;
    private CancellationTokenRegistration _interrupt;
    private long _pendingBytes;
    private bool _exhausted;
    private int _disposed;

    private DuckDbResultStream(ConnectionLease lease, PreparedStatementHandle prepared, PendingResultHandle pending, DuckDbResultHandle result,
        int targetRows, long targetBytes, long maxBatchBytes, CancellationToken cancellationToken)
    {
        _lease = lease;
        _prepared = prepared;
        _pending = pending;
        _result = result;
        _targetBytes = targetBytes;
        _maxBatchBytes = maxBatchBytes;
        _cancellationToken = cancellationToken;
        _options = DuckDbApi.duckdb_result_get_arrow_options(result);
        Schema = DuckDbStatementRunner.ReadSchema(result, _options);
        _coalescer = new BatchCoalescer(Schema, targetRows);
    }

    /// <summary>The result's schema.</summary>
    public Schema Schema { get; }

    /// <summary>
    /// Starts <paramref name="sql"/> on <paramref name="connection"/>. <paramref name="targetBytes"/> (0: no bound) ends a
    /// batch early once it holds that many bytes; <paramref name="maxBatchBytes"/> (0: no limit) fails the statement with
    /// 53200 when one batch still holds more (a single chunk of huge values).
    /// </summary>
    /// <exception cref="DuckDbSqlException">DuckDB refused or aborted the statement.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static DuckDbResultStream Open(DuckDBConnection connection, string sql, int targetRows, long targetBytes, long maxBatchBytes,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        var lease = ConnectionLease.Acquire(connection);
        PreparedStatementHandle? prepared = null;
        PendingResultHandle? pending = null;
        DuckDbResultHandle? result = null;
        CancellationTokenRegistration interrupt = default;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            prepared = DuckDbStatementRunner.Prepare(lease.Handle, sql);
            if (DuckDbApi.duckdb_pending_prepared_streaming(prepared, out pending) != DuckDbApi.Success)
                throw DuckDbErrorTranslation.ToException(pending.IsInvalid ? null : DuckDbApi.Text(DuckDbApi.duckdb_pending_error(pending), "unknown DuckDB error"));
            result = new DuckDbResultHandle();
            // From the pending query on, an interrupt reaches the query: execution and every later fetch.
            interrupt = cancellationToken.Register(static c => DuckDbApi.duckdb_interrupt((IntPtr)c!), lease.Handle);
            cancellationToken.ThrowIfCancellationRequested();
            if (DuckDbApi.duckdb_execute_pending(pending, result) != DuckDbApi.Success)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw DuckDbErrorTranslation.ToException(DuckDbApi.Text(DuckDbApi.duckdb_result_error(result), "unknown DuckDB error"));
            }
            var stream = new DuckDbResultStream(lease, prepared, pending, result, targetRows, targetBytes, maxBatchBytes, cancellationToken);
            stream._interrupt = interrupt;
            return stream;
        }
        catch (Exception e)
        {
            interrupt.Dispose();
            result?.Dispose();
            pending?.Dispose();
            prepared?.Dispose();
            lease.Dispose();
            if (e is DuckDbSqlException { SqlState: SqlState.OutOfMemory })
                ProcessMemoryLimit.ReleaseFreeMemory();
            throw;
        }
    }

    /// <summary>The next batch (the caller owns it), or null once the result is exhausted.</summary>
    /// <exception cref="DuckDbSqlException">DuckDB aborted the statement, or a batch is over the byte limit (53200).</exception>
    /// <exception cref="OperationCanceledException">The stream's token was cancelled.</exception>
    public RecordBatch? Next()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        while (_ready.Count == 0 && !_exhausted)
            Fill();
        return _ready.TryDequeue(out var batch) ? batch : null;
    }

    private void Fill()
    {
        _cancellationToken.ThrowIfCancellationRequested();
        using var chunk = DuckDbApi.duckdb_fetch_chunk(_result.Value);
        if (chunk.IsInvalid)
        {
            // A streaming result reports a failure (an interrupt, out of memory) as the end of its chunks.
            var error = DuckDbApi.Text(DuckDbApi.duckdb_result_error(_result), "");
            if (!string.IsNullOrEmpty(error))
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (DuckDbErrorTranslation.ToException(error) is { SqlState: SqlState.OutOfMemory } oom)
                {
                    ProcessMemoryLimit.ReleaseFreeMemory();
                    throw oom;
                }
                throw DuckDbErrorTranslation.ToException(error);
            }
            _exhausted = true;
            Enqueue(_coalescer.Finish());
            return;
        }
        if (DuckDbApi.duckdb_data_chunk_get_size(chunk) == 0)
            return;
        var batch = DuckDbStatementRunner.ToBatch(_options, chunk, Schema);
        _pendingBytes += Ingest.ArrowSize.Of(batch);
        _coalescer.Add(batch);
        var flush = _targetBytes > 0 && _pendingBytes >= _targetBytes;
        var ready = _coalescer.TakeReady(flush);
        if (ready.Count > 0)
            _pendingBytes = 0;
        Enqueue(ready);
    }

    private void Enqueue(List<RecordBatch> batches)
    {
        if (_targetBytes > 0)
            batches = SplitLarge(batches);
        foreach (var b in batches)
        {
            if (_maxBatchBytes > 0 && Ingest.ArrowSize.Of(b) > _maxBatchBytes)
            {
                foreach (var other in batches) other.Dispose();
                throw new DuckDbSqlException(SqlState.OutOfMemory,
                    $"out of memory: one batch of the statement's result holds more than {_maxBatchBytes} bytes (TimeFusion:Execution:MaxResultBytes)");
            }
        }
        foreach (var b in batches)
            _ready.Enqueue(b);
    }

    /// <summary>
    /// DuckDB hands out chunks of 2,048 rows whatever their size, so one chunk of wide rows can be many times the target
    /// (a door merging many grains holds a batch of each): such a batch is cut into copies of about the target's size
    /// (by rows; a single row stays whole) and freed.
    /// </summary>
    private List<RecordBatch> SplitLarge(List<RecordBatch> batches)
    {
        List<RecordBatch>? split = null;
        for (var i = 0; i < batches.Count; i++)
        {
            var b = batches[i];
            var bytes = b.Length > 1 ? Ingest.ArrowSize.Of(b) : 0;
            if (bytes <= _targetBytes)
            {
                split?.Add(b);
                continue;
            }
            split ??= batches.Take(i).ToList();
            var parts = (int)Math.Min(b.Length, (bytes + _targetBytes - 1) / _targetBytes);
            var rows = (b.Length + parts - 1) / parts;
            for (var start = 0; start < b.Length; start += rows)
            {
                var length = Math.Min(rows, b.Length - start);
                var arrays = new IArrowArray[b.ColumnCount];
                for (var c = 0; c < arrays.Length; c++)
                    arrays[c] = ManagedArrowMemory.Concatenate([ArrowArrayFactory.Slice(b.Column(c), start, length)]);
                split.Add(new RecordBatch(b.Schema, arrays, length));
            }
            b.Dispose();
        }
        return split ?? batches;
    }

    /// <summary>Frees DuckDB's result (ending the query) and gives the connection back.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _interrupt.Dispose();
        while (_ready.TryDequeue(out var b))
            b.Dispose();
        _coalescer.Dispose();
        _options.Dispose();
        _result.Dispose();
        _pending.Dispose();
        _prepared.Dispose();
        _lease.Dispose();
    }
}
