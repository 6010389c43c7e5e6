using System.Collections.Concurrent;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TimeFusion.DuckDb;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// The silo-wide in-memory DuckDB instance that holds every table's buffered rows (DESIGN.md §2.5), plus
/// the silo's <see cref="MemoryBudget"/>. Settings are applied deliberately at open: <c>memory_limit</c>,
/// <c>threads</c>, <c>temp_directory</c> (a silo-owned folder or '' — never DuckDB's default <c>./.tmp</c>),
/// a <c>checkpoint_threshold</c> so high that commits never checkpoint (automatic checkpoints inside
/// commits stalled appends for seconds), and <c>TimeZone = 'UTC'</c>.
/// <para>
/// Each buffer table keeps its rows in a few in-memory databases of its own ("generations", see
/// <see cref="BufferTable"/>), ATTACHed to this instance, because a CHECKPOINT — the only thing that compresses
/// rows and gives deleted rows' memory back — holds its database's checkpoint lock exclusively and blocks every
/// write to that database while it runs (measured: seconds of append stalls). Compressing sealed generations
/// never blocks appends, and dropping flushed rows is a DETACH that frees their memory at once. Queries still
/// see every table through any connection.
/// </para>
/// </summary>
public sealed class BufferDatabase : IDisposable, IAsyncDisposable
{
    /// <summary>DuckDB memory tags that hold table data (rows, strings, metadata, indexes, undo buffers).</summary>
    private const string TableMemoryTags = "'BASE_TABLE', 'IN_MEMORY_TABLE', 'OVERFLOW_STRINGS', 'METADATA', 'ART_INDEX', 'TRANSACTION'";

    private readonly DuckDBConnection _root;
    private readonly DuckDbConnectionPool _pool;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reconcileGate = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _reconcileLoop;
    private volatile Exception? _lastBackgroundError;
    private int _disposed;

    private BufferDatabase(BufferOptions options, DuckDBConnection root, ILogger logger)
    {
        Options = options;
        _root = root;
        _logger = logger;
        _pool = new DuckDbConnectionPool(root, options.MaxIdleConnections);
        ArrowScan = ArrowScanFunction.Register(_pool.OpenNew());
        Budget = new MemoryBudget(options.SoftLimitBytes, options.HardLimitBytes);
        CheckpointSlots = new SemaphoreSlim(options.MaxConcurrentCheckpoints, options.MaxConcurrentCheckpoints);
        if (options.MaxConcurrentExports > 0) ExportSlots = new SemaphoreSlim(options.MaxConcurrentExports, options.MaxConcurrentExports);
        _reconcileLoop = options.ReconcileInterval > TimeSpan.Zero ? RunReconcileLoopAsync(options.ReconcileInterval) : Task.CompletedTask;
    }

    /// <summary>The options the database was opened with.</summary>
    public BufferOptions Options { get; }

    /// <summary>The silo-wide memory budget all buffer tables reserve from.</summary>
    public MemoryBudget Budget { get; }

    /// <summary>The last failure of a background CHECKPOINT or reconciliation (also logged), or null.</summary>
    public Exception? LastBackgroundError => _lastBackgroundError;

    internal DuckDbConnectionPool Connections => _pool;

    /// <summary><c>tf_arrow_scan</c>, through which queries read the rows the tables' tails hold as Arrow.</summary>
    internal ArrowScanFunction ArrowScan { get; }

    internal ILogger Logger => _logger;

    internal CancellationToken ShutdownToken => _shutdown.Token;

    /// <summary>Limits how many table checkpoints run at once (they compete with appends for the cores).</summary>
    internal SemaphoreSlim CheckpointSlots { get; }

    /// <summary>Limits how many flush exports run at once on the silo (<see cref="BufferOptions.MaxConcurrentExports"/>); null = no limit.</summary>
    internal SemaphoreSlim? ExportSlots { get; }

    /// <summary>The live buffer table of each id, so that creating a table again retires the stale instance.</summary>
    internal ConcurrentDictionary<TableId, BufferTable> Tables { get; } = new();

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
    /// undo buffers, over all buffer databases): the figure the budget is reconciled against.
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
    /// Seals and compresses every live buffer table now (see <see cref="BufferTable.CheckpointAsync"/>) and
    /// reconciles the budget. Returns false when DuckDB deferred at least one checkpoint.
    /// </summary>
    public async Task<bool> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var all = true;
        foreach (var table in Tables.Values)
        {
            try
            {
                all &= await table.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // Dropped meanwhile: nothing left to checkpoint.
            }
        }
        await ReconcileMemoryAsync().ConfigureAwait(false);
        return all;
    }

    /// <summary>Completes when the background checkpoints requested so far have run (for tests and shutdown).</summary>
    public Task WhenBackgroundCheckpointsIdle() => Task.WhenAll(Tables.Values.Select(t => t.BackgroundCheckpoint));

    /// <summary>Measures DuckDB's table memory and corrects the budget by it (see <see cref="MemoryBudget"/>). Serialized.</summary>
    public async Task ReconcileMemoryAsync()
    {
        await _reconcileGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await Task.Run(() =>
            {
                var token = Budget.BeginReconcile();
                // Rows in the tables' tails are held as Arrow, not in DuckDB: they count at their estimate.
                Budget.CompleteReconcile(token, TableMemoryBytes() + Tables.Values.Sum(t => t.TailBytes));
            }).ConfigureAwait(false);
        }
        finally
        {
            _reconcileGate.Release();
        }
    }

    internal void ReportBackgroundError(Exception e, string what)
    {
        if (_shutdown.IsCancellationRequested)
            return; // the database is going away; nothing left to reclaim
        _lastBackgroundError = e;
        _logger.LogError(e, "{What} failed", what);
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
                catch (Exception e)
                {
                    ReportBackgroundError(e, "Reconciling the buffer memory budget with DuckDB");
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
    }

    /// <summary>Closes the instance without waiting for background work; prefer <see cref="DisposeAsync"/>, which also disposes live tables.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _shutdown.Cancel();
        ArrowScan.Dispose();
        _pool.Dispose();
        _root.Dispose();
    }

    /// <summary>Disposes live tables, stops background work, waits for it, and closes the instance.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) != 0)
            return;
        _shutdown.Cancel();
        foreach (var table in Tables.Values)
            await table.DisposeAsync().ConfigureAwait(false);
        await _reconcileLoop.ConfigureAwait(false);
        Dispose();
    }
}
