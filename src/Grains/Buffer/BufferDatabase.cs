using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// The silo-wide in-memory DuckDB database that holds every table's buffered rows (DESIGN.md §2.5), plus
/// the silo's <see cref="MemoryBudget"/>. Settings are applied deliberately at open: <c>memory_limit</c>,
/// <c>threads</c>, <c>temp_directory</c> (a silo-owned folder or '' — never DuckDB's default <c>./.tmp</c>),
/// a <c>checkpoint_threshold</c> so high that commits never checkpoint (automatic checkpoints inside
/// commits stalled appends for seconds), and <c>TimeZone = 'UTC'</c>. CHECKPOINT runs in the background
/// after deletes instead, because only CHECKPOINT gives deleted rows' memory back and compresses.
/// </summary>
public sealed class BufferDatabase : IDisposable, IAsyncDisposable
{
    /// <summary>DuckDB memory tags that hold table data (rows, strings, metadata, indexes, undo buffers).</summary>
    private const string TableMemoryTags = "'BASE_TABLE', 'IN_MEMORY_TABLE', 'OVERFLOW_STRINGS', 'METADATA', 'ART_INDEX', 'TRANSACTION'";

    private readonly DuckDBConnection _root;
    private readonly ConnectionPool _pool;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _checkpointGate = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _reconcileLoop;
    private int _checkpointRequested;
    private Task _backgroundCheckpoint = Task.CompletedTask;
    private volatile Exception? _lastBackgroundError;
    private int _disposed;

    private BufferDatabase(BufferOptions options, DuckDBConnection root, ILogger logger)
    {
        Options = options;
        _root = root;
        _logger = logger;
        _pool = new ConnectionPool(root, options.MaxIdleConnections);
        Budget = new MemoryBudget(options.SoftLimitBytes, options.HardLimitBytes);
        _reconcileLoop = options.ReconcileInterval > TimeSpan.Zero ? RunReconcileLoopAsync(options.ReconcileInterval) : Task.CompletedTask;
    }

    /// <summary>The options the database was opened with.</summary>
    public BufferOptions Options { get; }

    /// <summary>The silo-wide memory budget all buffer tables reserve from.</summary>
    public MemoryBudget Budget { get; }

    /// <summary>The last failure of a background CHECKPOINT or reconciliation (also logged), or null.</summary>
    public Exception? LastBackgroundError => _lastBackgroundError;

    internal ConnectionPool Connections => _pool;

    /// <summary>The live buffer table of each id, so that creating a table again retires the stale instance.</summary>
    internal System.Collections.Concurrent.ConcurrentDictionary<TableId, BufferTable> Tables { get; } = new();

    /// <summary>Opens a new in-memory buffer database.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Inconsistent options.</exception>
    public static BufferDatabase Open(BufferOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!string.IsNullOrEmpty(options.TempDirectory))
            Directory.CreateDirectory(options.TempDirectory);
        var root = new DuckDBConnection("DataSource=:memory:");
        try
        {
            root.Open();
            var temp = string.IsNullOrEmpty(options.TempDirectory) ? "" : Path.GetFullPath(options.TempDirectory);
            foreach (var sql in new[]
                     {
                         $"SET memory_limit = '{options.MemoryLimitBytes.ToString(CultureInfo.InvariantCulture)}B'",
                         $"SET threads = {options.Threads.ToString(CultureInfo.InvariantCulture)}",
                         $"SET temp_directory = {SqlNames.Literal(temp)}",
                         "SET checkpoint_threshold = '1000TB'",
                         "SET GLOBAL TimeZone = 'UTC'",
                     })
            {
                DuckDbCommands.Execute(root, sql);
            }
        }
        catch
        {
            root.Dispose();
            throw;
        }
        return new BufferDatabase(options, root, logger ?? NullLogger.Instance);
    }

    /// <summary>Everything DuckDB's buffer manager holds now (sum of <c>duckdb_memory()</c>), including query working memory.</summary>
    public long MemoryUsageBytes() => QueryMemory(null);

    /// <summary>
    /// What DuckDB holds for table data (the <c>duckdb_memory()</c> tags of tables, strings, metadata, indexes and
    /// undo buffers): the figure the budget is reconciled against.
    /// </summary>
    public long TableMemoryBytes() => QueryMemory(TableMemoryTags);

    private long QueryMemory(string? tags)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = _pool.Rent();
        var reusable = false;
        try
        {
            var where = tags is null ? "" : $" WHERE tag IN ({tags})";
            var value = DuckDbCommands.Scalar(connection, "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()" + where);
            reusable = true;
            return Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }
        finally
        {
            _pool.Return(connection, reusable);
        }
    }

    /// <summary>
    /// Runs CHECKPOINT now (compresses buffered rows and frees deleted ones), then reconciles the budget.
    /// Checkpoints are serialized; concurrent appends and snapshots keep working. Returns false when DuckDB
    /// refused because of other write transactions — an UPDATE or DELETE in flight, or a committed UPDATE whose
    /// old versions an open snapshot can still see — in which case nothing happened and a later try will work.
    /// </summary>
    /// <exception cref="BufferException">The checkpoint failed for another reason.</exception>
    public async Task<bool> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _checkpointGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(() =>
            {
                var connection = _pool.Rent();
                var reusable = false;
                try
                {
                    DuckDbCommands.Execute(connection, "CHECKPOINT");
                    reusable = true;
                }
                catch (DuckDBException e) when (e.Message.Contains("Cannot CHECKPOINT", StringComparison.OrdinalIgnoreCase))
                {
                    reusable = true;
                    return false;
                }
                catch (DuckDBException e)
                {
                    throw new BufferException("CHECKPOINT of the buffer database failed: " + e.Message, e);
                }
                finally
                {
                    _pool.Return(connection, reusable);
                }
                ReconcileNow();
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _checkpointGate.Release();
        }
    }

    /// <summary>Measures DuckDB's table memory and corrects the budget by it (see <see cref="MemoryBudget"/>).</summary>
    public Task ReconcileMemoryAsync() => Task.Run(ReconcileNow);

    private void ReconcileNow()
    {
        var token = Budget.BeginReconcile();
        var measured = TableMemoryBytes();
        Budget.CompleteReconcile(token, measured);
    }

    /// <summary>
    /// Asks for a CHECKPOINT in the background (after deletes). Requests made while one runs are coalesced into
    /// one more run. Failures are logged and kept in <see cref="LastBackgroundError"/>.
    /// </summary>
    public void RequestCheckpoint()
    {
        if (Volatile.Read(ref _disposed) != 0)
            return;
        if (Interlocked.Exchange(ref _checkpointRequested, 1) == 1)
            return;
        lock (_shutdown)
            _backgroundCheckpoint = _backgroundCheckpoint.ContinueWith(_ => RunRequestedCheckpointAsync(), CancellationToken.None,
                TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Completes when the background checkpoints requested so far have run.</summary>
    public Task WhenBackgroundCheckpointsIdle()
    {
        lock (_shutdown)
            return _backgroundCheckpoint;
    }

    private async Task RunRequestedCheckpointAsync()
    {
        Interlocked.Exchange(ref _checkpointRequested, 0);
        if (_shutdown.IsCancellationRequested)
            return;
        try
        {
            if (!await CheckpointAsync(_shutdown.Token).ConfigureAwait(false))
            {
                // Deferred by concurrent writers or old snapshots: try again a little later.
                _logger.LogDebug("Buffer CHECKPOINT deferred by concurrent write transactions; retrying in {Delay}", Options.CheckpointRetryDelay);
                _ = RetryCheckpointLaterAsync();
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        catch (Exception e) when (!_shutdown.IsCancellationRequested)
        {
            _lastBackgroundError = e;
            _logger.LogError(e, "Background CHECKPOINT of the buffer database failed");
        }
        catch (Exception)
        {
            // Shutting down: the database is going away, nothing left to reclaim.
        }
    }

    private async Task RetryCheckpointLaterAsync()
    {
        try
        {
            await Task.Delay(Options.CheckpointRetryDelay, _shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        RequestCheckpoint();
    }

    private async Task RunReconcileLoopAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_shutdown.Token).ConfigureAwait(false))
            {
                try
                {
                    await ReconcileMemoryAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (!_shutdown.IsCancellationRequested)
                {
                    _lastBackgroundError = e;
                    _logger.LogError(e, "Reconciling the buffer memory budget with DuckDB failed");
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
    }

    /// <summary>Closes the database without waiting for background work; prefer <see cref="DisposeAsync"/>, which also disposes live tables.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _shutdown.Cancel();
        _pool.Dispose();
        _root.Dispose();
    }

    /// <summary>Stops background work, waits for it, and closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) != 0)
            return;
        foreach (var table in Tables.Values)
            await table.DisposeAsync().ConfigureAwait(false);
        _shutdown.Cancel();
        Task background;
        lock (_shutdown)
            background = _backgroundCheckpoint;
        await Task.WhenAll(background, _reconcileLoop).ConfigureAwait(false);
        Dispose();
    }
}
