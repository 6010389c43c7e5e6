using System.Security.Cryptography;
using System.Text;
using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.DuckDb;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// One (project, table)'s buffered rows (DESIGN.md §2.5): the schema's columns plus <c>_lsn</c>, the WAL LSN of
/// the entry that brought each row, kept as a short list of LSN-ordered generations, each an in-memory DuckDB
/// database attached to the silo's instance (see <see cref="BufferGeneration"/>).
/// <list type="bullet">
/// <item>Appends go through the C API's Arrow-to-DataChunk conversion into the newest generation, on the
/// table's own connection, each batch in its own transaction (atomic).</item>
/// <item>A generation is sealed when it holds <see cref="BufferOptions.GenerationRows"/> rows and when a flush
/// exports it. In the background, a sealed generation is merged into the older compressed "base" generation next
/// to it (INSERT … SELECT, then a CHECKPOINT that compresses just the new rows) or, across a pending flush's LSN,
/// becomes a base itself; compression cuts memory about tenfold. A CHECKPOINT blocks every write to its database
/// while it runs, so it never runs on the generation taking appends: appends do not wait for it. A table thus
/// has about two generations, which queries read as one UNION ALL.</item>
/// <item>After a flush, <see cref="DeleteUpToAsync"/> DETACHes the generations it made durable — their
/// memory is freed at once, no DELETE, no CHECKPOINT — once no open snapshot reads them.</item>
/// <item>DML, exports and deletes are serialized with each other (two overlapping DELETEs conflict in DuckDB);
/// appends do not wait for them. Operations apply in the order their calls complete: a DML sees every append
/// that completed before it was called.</item>
/// </list>
/// </summary>
public sealed partial class BufferTable : IAsyncDisposable
{
    /// <summary>The LSN column every buffer table has after the schema's columns.</summary>
    public const string LsnColumn = "_lsn";

    private static readonly string QuotedLsn = SqlNames.Quote(LsnColumn);

    private readonly BufferDatabase _db;
    private readonly SemaphoreSlim _appendLock = new(1, 1);
    private readonly SemaphoreSlim _maintenanceLock = new(1, 1);
    private readonly object _gate = new();
    private readonly List<BufferGeneration> _generations = new(); // live, oldest first; the last one takes appends
    private readonly ReservationLedger _reservations = new();
    private readonly object _backgroundGate = new();
    private readonly string _exportColumns;
    private DuckDBConnection? _appendConnection;
    private ArrowChunkAppender? _appender;
    private BufferGeneration? _appenderTarget;
    private long _nextSequence;
    private long _maxLsn = -1;
    private long _deletedUpTo = -1;
    private long _pendingFlushLsn = -1; // the last export's LSN until the matching delete: merges never straddle it
    private int _compressionRequested;
    private Task _backgroundCompression = Task.CompletedTask;
    private int _disposed;

    private BufferTable(BufferDatabase db, TableId id, TableSchema schema)
    {
        _db = db;
        Id = id;
        Schema = schema;
        DatabasePrefix = DatabasePrefixFor(id);
        _exportColumns = string.Join(", ", schema.Columns.Where(c => c.Name != TableSchema.DateColumn).Select(c => SqlNames.Quote(c.Name)));
    }

    /// <summary>The (project, table) this buffer belongs to.</summary>
    public TableId Id { get; }

    /// <summary>The table's schema.</summary>
    public TableSchema Schema { get; }

    /// <summary>Prefix of the attached DuckDB databases holding the rows: <c>tfbuf_</c> + a hash of the project and table names.</summary>
    public string DatabasePrefix { get; }

    /// <summary>Rows in the buffer now (appended minus deleted), the tail's included.</summary>
    public long RowCount
    {
        get
        {
            lock (_gate)
                return _generations.Sum(g => g.Rows) + Interlocked.Read(ref _tailRows);
        }
    }

    /// <summary>Live generations (the newest takes appends).</summary>
    public int GenerationCount
    {
        get
        {
            lock (_gate)
                return _generations.Count;
        }
    }

    /// <summary>The highest LSN appended, or -1 when nothing has been.</summary>
    public long MaxLsn => Interlocked.Read(ref _maxLsn);

    /// <summary>The highest LSN passed to <see cref="DeleteUpToAsync"/> (rows up to it are gone), or -1.</summary>
    public long DeletedUpToLsn => Interlocked.Read(ref _deletedUpTo);

    /// <summary>Bytes of the memory reservations this table holds (released when rows are flushed and deleted).</summary>
    public long ReservedBytes => _reservations.Bytes;

    /// <summary>Checkpoint counters of this table.</summary>
    public BufferTableStats Stats { get; } = new();

    /// <summary>The background compression chain (completes when the requested compressions have run).</summary>
    internal Task BackgroundCheckpoint
    {
        get
        {
            lock (_backgroundGate)
                return _backgroundCompression;
        }
    }

    /// <summary>The database name prefix for a table id: stable, collision-resistant and free of any character of the names.</summary>
    public static string DatabasePrefixFor(TableId id)
    {
        var bytes = Encoding.UTF8.GetBytes(id.Project + "\0" + id.Table);
        return "tfbuf_" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16));
    }

    /// <summary>Creates the buffer table for <paramref name="id"/>, retiring a stale instance of the same id and dropping its data.</summary>
    public static async Task<BufferTable> CreateAsync(BufferDatabase db, TableId id, TableSchema schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(schema);
        if (schema.Find(LsnColumn) is not null)
            throw new SchemaException($"table '{schema.Name}': column name '{LsnColumn}' is reserved by the buffer");
        cancellationToken.ThrowIfCancellationRequested();
        // A live instance of the same id is stale (e.g. an old activation): retire it so that its later
        // disposal cannot drop the new table's data, and give its reservations back.
        if (db.Tables.TryGetValue(id, out var stale))
            await stale.DisposeAsync().ConfigureAwait(false);
        var table = new BufferTable(db, id, schema);
        await Task.Run(table.Initialize, cancellationToken).ConfigureAwait(false);
        if (!db.Tables.TryAdd(id, table))
        {
            await table.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"another buffer table for {id} was created concurrently");
        }
        return table;
    }

    private void Initialize()
    {
        var connection = _db.Connections.OpenNew();
        try
        {
            // Leftovers of an instance that went away without being disposed.
            var stale = new List<string>();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = $"SELECT database_name FROM duckdb_databases() WHERE starts_with(database_name, {SqlNames.Literal(DatabasePrefix + "_g")})";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                    stale.Add(reader.GetString(0));
            }
            foreach (var name in stale)
                DuckDbCommands.Execute(connection, $"DETACH DATABASE IF EXISTS {SqlNames.Quote(name)}");
            _appendConnection = connection;
            var first = CreateGeneration(connection);
            lock (_gate)
                _generations.Add(first);
            // The tail's scan declares exactly the generations' columns, so that the two union without casts.
            _scanColumns = ArrowScanColumns.Of(connection, $"SELECT * EXCLUDE ({QuotedLsn}) FROM {first.QuotedTable}");
            Retarget(first);
        }
        catch
        {
            connection.Dispose();
            _appendConnection = null;
            throw;
        }
    }

    private BufferGeneration CreateGeneration(DuckDBConnection connection)
    {
        var generation = new BufferGeneration($"{DatabasePrefix}_g{_nextSequence++}", _nextSequence);
        DuckDbCommands.Execute(connection, $"ATTACH ':memory:' AS {generation.QuotedDatabase}");
        try
        {
            DuckDbCommands.Execute(connection, $"CREATE TABLE {generation.QuotedTable} ({Schema.ToDuckDbColumns()}, {QuotedLsn} BIGINT NOT NULL)");
        }
        catch
        {
            DuckDbCommands.Execute(connection, $"DETACH DATABASE IF EXISTS {generation.QuotedDatabase}");
            throw;
        }
        return generation;
    }

    /// <summary>Points the appender at <paramref name="generation"/> (under the append lock).</summary>
    private void Retarget(BufferGeneration generation)
    {
        _appender?.Dispose();
        _appender = null;
        _appenderTarget = null;
        var connection = _appendConnection ??= _db.Connections.OpenNew();
        _appender = new ArrowChunkAppender(connection, "rows", LsnColumn, _db.Options.RowsPerChunk, generation.DatabaseName);
        _appenderTarget = generation;
    }

    /// <summary>Seals the generation taking appends and starts a new one (under the append lock).</summary>
    private void Rotate()
    {
        var connection = _appendConnection ??= _db.Connections.OpenNew();
        var next = CreateGeneration(connection);
        BufferGeneration sealedGeneration;
        lock (_gate)
        {
            sealedGeneration = _generations[^1];
            sealedGeneration.Sealed = true;
            _generations.Add(next);
        }
        Retarget(next);
        if (sealedGeneration.IsEmpty)
            DropGenerations([sealedGeneration]);
        else
            RequestCompression();
    }

    private bool ShouldSeal(BufferGeneration active) => active.Rows >= _db.Options.GenerationRows;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Detaches every generation of the table (freeing its memory at once) and releases its reservations.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // Only the registered instance owns the data; a retired one must not drop its successor's.
        var owner = _db.Tables.TryRemove(new KeyValuePair<TableId, BufferTable>(Id, this));
        await _appendLock.WaitAsync().ConfigureAwait(false);
        await _maintenanceLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await Task.Run(() =>
            {
                try
                {
                    _appender?.Dispose();
                    _appendConnection?.Dispose();
                    _appender = null;
                    _appendConnection = null;
                    List<BufferGeneration> all;
                    lock (_gate)
                    {
                        all = _generations.ToList();
                        _generations.Clear();
                        foreach (var g in all)
                        {
                            g.Dropped = true;
                            g.Detached = true;
                        }
                    }
                    if (owner)
                        DetachNow(all, background: false);
                }
                finally
                {
                    _reservations.ReleaseAll();
                    lock (_tailGate)
                    {
                        _tail.Clear();
                        Interlocked.Exchange(ref _tailRows, 0);
                        Interlocked.Exchange(ref _tailBytes, 0);
                    }
                    _scanColumns?.Dispose();
                    _scanColumns = null;
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
            _appendLock.Release();
        }
    }
}
