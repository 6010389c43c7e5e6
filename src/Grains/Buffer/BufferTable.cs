using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.Buffer.Native;
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
public sealed class BufferTable : IAsyncDisposable
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

    /// <summary>Rows in the buffer now (appended minus deleted).</summary>
    public long RowCount
    {
        get
        {
            lock (_gate)
                return _generations.Sum(g => g.Rows);
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
        _appender = new ArrowChunkAppender(connection.NativeConnection.DangerousGetHandle(), "rows", LsnColumn, _db.Options.RowsPerChunk, generation.DatabaseName);
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

    /// <summary>The memory estimate for appending <paramref name="batch"/> (Arrow bytes plus the LSN column, times the estimate factor).</summary>
    public long EstimateBytes(RecordBatch batch) =>
        (long)Math.Ceiling((ArrowSizeEstimator.DataBytes(batch) + 8L * batch.Length) * _db.Options.EstimateFactor);

    /// <summary>
    /// Appends a batch tagged with <paramref name="lsn"/>, reserving its memory from the budget first (waiting
    /// up to <see cref="BufferOptions.ReserveMaxWait"/>). All rows or none are appended.
    /// </summary>
    /// <exception cref="SchemaException">The batch does not match the schema or is malformed.</exception>
    /// <exception cref="MemoryPressureException">No memory within the allowed wait (retryable).</exception>
    /// <exception cref="BufferException">DuckDB refused the rows (e.g. a NOT NULL violation); nothing was appended.</exception>
    public async Task AppendAsync(RecordBatch batch, long lsn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(lsn);
        ArrowBatchValidator.Validate(batch, Schema, _db.Options.ValidateUtf8);
        var reservation = await _db.Budget.ReserveAsync(EstimateBytes(batch), _db.Options.ReserveMaxWait, cancellationToken).ConfigureAwait(false);
        await AppendValidatedAsync(batch, lsn, reservation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends a batch tagged with <paramref name="lsn"/> using a reservation the caller took earlier (e.g. before
    /// writing the WAL). The table takes the reservation over: it is released if the append fails, and otherwise
    /// when rows up to <paramref name="lsn"/> are deleted after a flush.
    /// </summary>
    /// <exception cref="SchemaException">The batch does not match the schema or is malformed.</exception>
    /// <exception cref="BufferException">DuckDB refused the rows; nothing was appended.</exception>
    public async Task AppendAsync(RecordBatch batch, long lsn, MemoryReservation reservation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        try
        {
            ArgumentNullException.ThrowIfNull(batch);
            ArgumentOutOfRangeException.ThrowIfNegative(lsn);
            ArrowBatchValidator.Validate(batch, Schema, _db.Options.ValidateUtf8);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        await AppendValidatedAsync(batch, lsn, reservation, cancellationToken).ConfigureAwait(false);
    }

    private async Task AppendValidatedAsync(RecordBatch batch, long lsn, MemoryReservation reservation, CancellationToken cancellationToken)
    {
        try
        {
            await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        try
        {
            ThrowIfDisposed();
            if (lsn < _maxLsn)
                throw new ArgumentOutOfRangeException(nameof(lsn), lsn, $"LSNs must not decrease: the buffer of {Id} already holds LSN {_maxLsn}");
            if (lsn <= Interlocked.Read(ref _deletedUpTo))
                throw new ArgumentOutOfRangeException(nameof(lsn), lsn, $"the buffer of {Id} was already flushed up to LSN {_deletedUpTo}");
            if (batch.Length > 0)
            {
                var active = _appenderTarget!;
                if (ShouldSeal(active))
                {
                    Rotate();
                    active = _appenderTarget!;
                }
                // Widen before committing: a snapshot deciding from the bounds must never miss a committed row.
                lock (_gate)
                    active.Widen(lsn);
                AppendInTransaction(batch, lsn);
                lock (_gate)
                    active.Rows += batch.Length;
            }
            reservation.MarkHeld();
            _reservations.Add(lsn, reservation);
            Interlocked.Exchange(ref _maxLsn, lsn);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        finally
        {
            _appendLock.Release();
        }
    }

    private void AppendInTransaction(RecordBatch batch, long lsn)
    {
        var connection = _appendConnection!;
        var appender = _appender!;
        DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
        try
        {
            appender.Append(batch, lsn);
            DuckDbCommands.Execute(connection, "COMMIT");
        }
        catch (Exception e)
        {
            appender.Abandon();
            if (!DuckDbCommands.TryRollback(connection))
            {
                // The connection is in an unknown state: replace it (and the appender on it).
                appender.Dispose();
                connection.Dispose();
                _appender = null;
                _appendConnection = null;
                Retarget(_appenderTarget!);
            }
            if (e is BufferException)
                throw;
            throw new BufferException($"appending {batch.Length} rows to the buffer of {Id} failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Opens a pinned snapshot of the rows with LSN above <paramref name="aboveLsn"/> (the last LSN flushed, W).
    /// The snapshot is fixed when this returns.
    /// </summary>
    public BufferSnapshot OpenSnapshot(long aboveLsn) => OpenSnapshotChoosing(() => aboveLsn);

    /// <summary>
    /// Opens a pinned snapshot of the rows with LSN above the value <paramref name="aboveLsnUnderLock"/> returns; it is
    /// called under the generation lock, so whatever state it reads is consistent with the buffer's commits (a DML's
    /// <c>onCommitted</c> callback runs under the same lock).
    /// </summary>
    internal BufferSnapshot OpenSnapshotChoosing(Func<long> aboveLsnUnderLock)
    {
        ThrowIfDisposed();
        var aboveLsn = -1L;
        var pool = _db.Connections;
        var connection = pool.Rent();
        var read = new List<BufferGeneration>();
        try
        {
            var parts = new List<string>();
            // Under the generation lock no DML or delete commits, no generation is dropped, and every append that
            // could commit before the pins below has already widened its generation's bounds.
            lock (_gate)
            {
                aboveLsn = aboveLsnUnderLock();
                DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
                foreach (var g in _generations)
                {
                    if (g.MaxLsn <= aboveLsn)
                        continue; // empty, or every row already flushed
                    parts.Add(g.MinLsn <= aboveLsn
                        ? $"SELECT * EXCLUDE ({QuotedLsn}) FROM {g.QuotedTable} WHERE {QuotedLsn} > {aboveLsn}"
                        : $"SELECT * EXCLUDE ({QuotedLsn}) FROM {g.QuotedTable}");
                    read.Add(g);
                }
                if (read.Count == 0)
                {
                    var active = _generations[^1];
                    parts.Add($"SELECT * EXCLUDE ({QuotedLsn}) FROM {active.QuotedTable} WHERE false");
                    read.Add(active);
                }
                // DuckDB starts a transaction's snapshot of a database at its first statement that touches it.
                foreach (var g in read)
                {
                    DuckDbCommands.Execute(connection, $"SELECT 1 FROM {g.QuotedTable} LIMIT 0");
                    g.Readers++;
                }
            }
            return new BufferSnapshot(pool, connection, parts.Select(p => "(" + p + ")").ToList(), aboveLsn, () => ReleaseReaders(read));
        }
        catch
        {
            ReleaseReaders(read);
            pool.Return(connection, DuckDbCommands.TryRollback(connection));
            throw;
        }
    }

    private void ReleaseReaders(List<BufferGeneration> generations)
    {
        var detach = new List<BufferGeneration>();
        lock (_gate)
        {
            foreach (var g in generations)
            {
                if (g.Readers > 0)
                    g.Readers--;
                if (g.Dropped && g.Readers == 0 && !g.Detached)
                {
                    g.Detached = true;
                    detach.Add(g);
                }
            }
        }
        if (detach.Count > 0)
            DetachNow(detach, background: true);
    }

    /// <summary>
    /// Writes the rows with LSN at or below <paramref name="upToLsn"/> to Parquet, one file per date partition under
    /// <paramref name="directory"/> (<c>date=YYYY-MM-DD/part-…-c000.zstd.parquet</c>), sorted by timestamp, zstd,
    /// 122,880-row groups, with statistics from DuckDB's <c>RETURN_STATS</c>. All files come from one snapshot.
    /// Rows are not deleted: call <see cref="DeleteUpToAsync"/> once the Delta commit holding the files succeeded.
    /// Seals the generation taking appends first when it holds such rows, so that the delete is a DETACH.
    /// On failure the files written so far are deleted.
    /// </summary>
    public async Task<IReadOnlyList<ExportedFile>> ExportParquetAsync(long upToLsn, string directory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            var root = Path.GetFullPath(directory);
            lock (_gate)
                _pendingFlushLsn = Math.Max(_pendingFlushLsn, upToLsn);
            await SealActiveIfAsync(g => !g.IsEmpty && g.MinLsn <= upToLsn, cancellationToken).ConfigureAwait(false);
            List<BufferGeneration> sources;
            lock (_gate)
                sources = _generations.Where(g => !g.IsEmpty && g.MinLsn <= upToLsn).ToList();
            if (sources.Count == 0)
                return [];
            var source = string.Join(" UNION ALL ", sources.Select(g => g.MaxLsn > upToLsn
                ? $"SELECT * FROM {g.QuotedTable} WHERE {QuotedLsn} <= {upToLsn}"
                : $"SELECT * FROM {g.QuotedTable}"));
            return await Task.Run(() => Export(source, root, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    private async Task SealActiveIfAsync(Func<BufferGeneration, bool> condition, CancellationToken cancellationToken)
    {
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            bool seal;
            lock (_gate)
                seal = condition(_generations[^1]);
            if (seal)
                await Task.Run(Rotate, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _appendLock.Release();
        }
    }

    private List<ExportedFile> Export(string source, string root, CancellationToken cancellationToken)
    {
        var files = new List<ExportedFile>();
        var date = SqlNames.Quote(TableSchema.DateColumn);
        var ts = SqlNames.Quote(TableSchema.TimestampColumn);
        RunInTransaction(connection =>
        {
            try
            {
                var dates = new List<DateOnly>();
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = $"SELECT DISTINCT {date} FROM ({source}) ORDER BY 1";
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                        dates.Add(reader.GetFieldValue<DateOnly>(0));
                }
                foreach (var day in dates)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var dayText = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                    var relative = $"date={dayText}/part-00000-{Guid.NewGuid():D}-c000.zstd.parquet";
                    var path = Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    var sql = $"COPY (SELECT {_exportColumns} FROM ({source}) WHERE {date} = DATE '{dayText}' ORDER BY {ts}) "
                              + $"TO {SqlNames.Literal(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, RETURN_STATS)";
                    files.Add(CopyOne(connection, sql, day, path, relative, cancellationToken));
                }
            }
            catch
            {
                foreach (var f in files)
                    File.Delete(f.LocalPath);
                throw;
            }
            return 0L;
        }, cancellationToken);
        return files;
    }

    internal ExportedFile CopyOne(DuckDBConnection connection, string sql, DateOnly day, string path, string relative, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var cancel = cancellationToken.Register(static c => ((DuckDBCommand)c!).Cancel(), command);
        try
        {
            using var reader = command.ExecuteReader();
            if (!reader.Read())
                throw new BufferException($"COPY of {Id} for {day:yyyy-MM-dd} returned no statistics");
            var rows = Convert.ToInt64(reader.GetValue(reader.GetOrdinal("count")), CultureInfo.InvariantCulture);
            var bytes = Convert.ToInt64(reader.GetValue(reader.GetOrdinal("file_size_bytes")), CultureInfo.InvariantCulture);
            var statsOrdinal = reader.GetOrdinal("column_statistics");
            var stats = ParquetStatsParser.Parse(reader.IsDBNull(statsOrdinal) ? null : reader.GetValue(statsOrdinal), Schema, _db.Options.MaxStatsStringLength);
            var onDisk = new FileInfo(path).Length;
            if (onDisk != bytes)
                throw new BufferException($"COPY of {Id} reported {bytes} bytes but {path} holds {onDisk}");
            return new ExportedFile(day, path, relative, rows, bytes, stats);
        }
        catch
        {
            if (File.Exists(path))
                File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Removes the rows with LSN at or below <paramref name="lsn"/> (after their flush committed) and releases their
    /// memory reservations. Generations holding only such rows are DETACHed, which frees their memory at once (or
    /// when the last snapshot reading them closes); a generation straddling the LSN gets a DELETE. Returns the rows removed.
    /// </summary>
    public async Task<long> DeleteUpToAsync(long lsn, CancellationToken cancellationToken)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        long removed;
        try
        {
            ThrowIfDisposed();
            // Seal the generation taking appends if it holds such rows: it must not be detached under the appender,
            // and only a sealed generation gets compressed, which is what gives partly deleted rows' memory back.
            await SealActiveIfAsync(g => !g.IsEmpty && g.MinLsn <= lsn, cancellationToken).ConfigureAwait(false);
            List<BufferGeneration> whole, partial;
            lock (_gate)
            {
                whole = _generations.Where(g => !g.IsEmpty && g.Sealed && g.MaxLsn <= lsn).ToList();
                partial = _generations.Where(g => !g.IsEmpty && g.MinLsn <= lsn && g.MaxLsn > lsn).ToList();
            }
            removed = await Task.Run(() => ApplyToGenerations(partial, g => $"DELETE FROM {g.QuotedTable} WHERE {QuotedLsn} <= {lsn}", null, (g, n) =>
            {
                g.Rows -= n;
                g.MinLsn = lsn + 1;
                g.Compressed = false;
            }, onCommitted: () =>
            {
                // Still under the generation lock, together with the partial deletes' commits.
                var total = 0L;
                foreach (var g in whole)
                {
                    total += g.Rows;
                    _generations.Remove(g);
                    g.Dropped = true;
                }
                long seen;
                while (lsn > (seen = Interlocked.Read(ref _deletedUpTo)) && Interlocked.CompareExchange(ref _deletedUpTo, lsn, seen) != seen)
                {
                }
                if (lsn >= _pendingFlushLsn)
                    _pendingFlushLsn = -1;
                return total;
            }), CancellationToken.None).ConfigureAwait(false);
            DropGenerations(whole);
        }
        finally
        {
            _maintenanceLock.Release();
        }
        _reservations.ReleaseUpTo(lsn);
        if (_db.Options.CheckpointAfterDelete)
            RequestCompression();
        return removed;
    }

    /// <summary>Applies <c>DELETE … WHERE (<paramref name="predicateSql"/>)</c> to the buffered rows atomically; returns the rows deleted.</summary>
    /// <exception cref="ArgumentException">The predicate is not a single SQL expression.</exception>
    /// <exception cref="BufferException">DuckDB rejected the statement; nothing changed.</exception>
    /// <param name="predicateSql">The predicate.</param>
    /// <param name="cancellationToken">Cancels before anything is applied.</param>
    /// <param name="onCommitted">Runs under the generation lock right after the commit: no snapshot opens in between.</param>
    public async Task<long> ApplyDeleteAsync(string predicateSql, CancellationToken cancellationToken, Action? onCommitted = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predicateSql);
        var deleted = await RunDmlAsync(t => $"SELECT 1 FROM {t} WHERE ({predicateSql})", t => $"DELETE FROM {t} WHERE ({predicateSql})", (g, n) =>
        {
            g.Rows -= n;
            g.Compressed = false;
        }, cancellationToken, onCommitted).ConfigureAwait(false);
        if (deleted > 0 && _db.Options.CheckpointAfterDelete)
            RequestCompression();
        return deleted;
    }

    /// <summary>
    /// Applies <c>UPDATE … SET col = (expr), … WHERE (<paramref name="predicateSql"/>)</c> to the buffered rows
    /// atomically; returns the rows updated.
    /// </summary>
    /// <exception cref="ArgumentException">No assignments, an unknown column, or SQL text that is not a single expression.</exception>
    /// <exception cref="BufferException">DuckDB rejected the statement; nothing changed.</exception>
    /// <param name="predicateSql">The predicate.</param>
    /// <param name="assignments">Column name to SQL expression.</param>
    /// <param name="cancellationToken">Cancels before anything is applied.</param>
    /// <param name="onCommitted">Runs under the generation lock right after the commit: no snapshot opens in between.</param>
    public async Task<long> ApplyUpdateAsync(string predicateSql, IReadOnlyList<KeyValuePair<string, string>> assignments, CancellationToken cancellationToken,
        Action? onCommitted = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predicateSql);
        ArgumentNullException.ThrowIfNull(assignments);
        if (assignments.Count == 0)
            throw new ArgumentException("an UPDATE needs at least one assignment", nameof(assignments));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (column, expression) in assignments)
        {
            if (Schema.Find(column) is null)
                throw new ArgumentException($"table '{Schema.Name}' has no column '{column}'", nameof(assignments));
            if (!seen.Add(column))
                throw new ArgumentException($"column '{column}' is assigned twice", nameof(assignments));
            ArgumentException.ThrowIfNullOrWhiteSpace(expression, nameof(assignments));
        }
        var set = string.Join(", ", assignments.Select(a => $"{SqlNames.Quote(a.Key)} = ({a.Value})"));
        var check = string.Join(", ", assignments.Select(a => $"({a.Value})"));
        var updated = await RunDmlAsync(t => $"SELECT {check} FROM {t} WHERE ({predicateSql})", t => $"UPDATE {t} SET {set} WHERE ({predicateSql})",
            (g, _) => g.Compressed = false, cancellationToken, onCommitted).ConfigureAwait(false);
        if (updated > 0 && _db.Options.CheckpointAfterDelete)
            RequestCompression();
        return updated;
    }

    private async Task<long> RunDmlAsync(Func<string, string> check, Func<string, string> dml, Action<BufferGeneration, long> onApplied, CancellationToken cancellationToken,
        Action? onCommitted)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            List<BufferGeneration> targets;
            lock (_gate)
                targets = _generations.ToList();
            // Parse check on one generation (all have the same shape) before touching any data.
            await Task.Run(() => RunInTransaction(connection =>
            {
                CheckSingleSelect(connection, check(targets[^1].QuotedTable));
                return 0L;
            }, cancellationToken), cancellationToken).ConfigureAwait(false);
            return await Task.Run(() => ApplyToGenerations(targets, g => dml(g.QuotedTable), cancellationToken, onApplied,
                onCommitted: onCommitted is null ? null : () =>
                {
                    onCommitted();
                    return 0L;
                }), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    /// <summary>
    /// Runs a statement (<paramref name="statement"/> of the generation) on each generation in its own
    /// transaction, on a connection of its own; DuckDB cannot write two attached databases in one transaction. Only
    /// when every one succeeded are all committed, together, under the generation lock, so that no snapshot opens
    /// between them; a failure rolls every one back. Returns the rows affected (plus what <paramref name="onCommitted"/> adds).
    /// </summary>
    private long ApplyToGenerations(List<BufferGeneration> targets, Func<BufferGeneration, string> statement, CancellationToken? cancellationToken,
        Action<BufferGeneration, long> onApplied, Func<long>? onCommitted)
    {
        var pool = _db.Connections;
        var open = new List<(BufferGeneration Generation, DuckDBConnection Connection, long Rows)>();
        var committed = false;
        try
        {
            foreach (var g in targets)
            {
                cancellationToken?.ThrowIfCancellationRequested();
                var connection = pool.Rent();
                try
                {
                    DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
                }
                catch
                {
                    pool.Return(connection, false);
                    throw;
                }
                open.Add((g, connection, 0));
                var rows = DuckDbCommands.Execute(connection, statement(g));
                open[^1] = (g, connection, rows);
            }
            long total = 0;
            lock (_gate)
            {
                foreach (var (g, connection, rows) in open)
                {
                    DuckDbCommands.Execute(connection, "COMMIT");
                    onApplied(g, rows);
                    total += rows;
                }
                committed = true;
                if (onCommitted is not null)
                    total += onCommitted();
            }
            return total;
        }
        catch (DuckDBException e)
        {
            throw new BufferException($"buffer of {Id}: {e.Message}" + (committed || open.Count == 0 ? "" : " (nothing was changed)"), e);
        }
        finally
        {
            foreach (var (_, connection, _) in open)
                pool.Return(connection, committed || DuckDbCommands.TryRollback(connection));
        }
    }

    /// <summary>
    /// Makes sure caller-given SQL fragments, placed in a SELECT exactly as they will be placed in the DML, parse as
    /// one SELECT statement: a fragment cannot smuggle a second statement in.
    /// </summary>
    internal static void CheckSingleSelect(DuckDBConnection connection, string select)
    {
        var json = DuckDbCommands.Scalar(connection, $"SELECT json_serialize_sql({SqlNames.Literal(select)})") as string
                   ?? throw new ArgumentException("the SQL fragments could not be parsed");
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.True)
        {
            var message = root.TryGetProperty("error_message", out var m) ? m.GetString() : "parse error";
            throw new ArgumentException($"invalid SQL expression: {message}");
        }
        if (!root.TryGetProperty("statements", out var statements) || statements.GetArrayLength() != 1)
            throw new ArgumentException("the SQL fragments must form exactly one statement");
    }

    /// <summary>Runs <paramref name="work"/> in BEGIN/COMMIT on a pooled connection; rolls back on any failure.</summary>
    private long RunInTransaction(Func<DuckDBConnection, long> work, CancellationToken cancellationToken)
    {
        var pool = _db.Connections;
        var connection = pool.Rent();
        var reusable = true;
        try
        {
            DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = work(connection);
                DuckDbCommands.Execute(connection, "COMMIT");
                return result;
            }
            catch (Exception e)
            {
                reusable = DuckDbCommands.TryRollback(connection);
                if (e is DuckDBException)
                    throw new BufferException($"buffer of {Id}: {e.Message}", e);
                throw;
            }
        }
        catch (DuckDBException e)
        {
            reusable = false;
            throw new BufferException($"buffer of {Id}: {e.Message}", e);
        }
        finally
        {
            pool.Return(connection, reusable);
        }
    }

    /// <summary>
    /// Seals the generation taking appends and compresses every sealed generation changed since its last
    /// CHECKPOINT, then reconciles the budget. Appends are not blocked by the compression (it never runs on the
    /// generation taking them); DML, exports and deletes of this table wait. Returns false when DuckDB deferred a
    /// checkpoint — a committed UPDATE's old row versions are still visible to an open snapshot — in which case
    /// that generation stays uncompressed until a later try.
    /// </summary>
    /// <exception cref="BufferException">A checkpoint failed for another reason.</exception>
    public async Task<bool> CheckpointAsync(CancellationToken cancellationToken)
    {
        await SealActiveIfAsync(g => !g.IsEmpty, cancellationToken).ConfigureAwait(false);
        var all = await CompressSealedAsync(cancellationToken, all: true).ConfigureAwait(false);
        await _db.ReconcileMemoryAsync().ConfigureAwait(false);
        return all;
    }

    /// <param name="cancellationToken">Cancels between generations.</param>
    /// <param name="all">Also compress generations that an export already covers (and a delete will soon drop).</param>
    private async Task<bool> CompressSealedAsync(CancellationToken cancellationToken, bool all = false)
    {
        while (true)
        {
            // One generation per turn of the maintenance lock, so that flushes and DML queued behind it are not
            // starved while appends keep sealing new generations.
            await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ThrowIfDisposed();
                BufferGeneration? target, into = null;
                lock (_gate)
                {
                    // Generations an export covers are about to be detached: compressing them would only delay the delete.
                    var boundary = all ? -1 : _pendingFlushLsn;
                    target = _generations.FirstOrDefault(g => g.Sealed && !g.Compressed && !g.IsEmpty && (boundary < 0 || g.MaxLsn > boundary));
                    if (target is null)
                        return true;
                    var index = _generations.IndexOf(target);
                    if (index > 0 && _generations[index - 1] is { Sealed: true, Compressed: true } previous && SameSideOfPendingFlush(previous, target))
                        into = previous;
                }
                var ran = await Task.Run(() => into is null ? Checkpoint(target) : Merge(target, into), CancellationToken.None).ConfigureAwait(false);
                if (!ran)
                    return false; // deferred: retried later
            }
            finally
            {
                _maintenanceLock.Release();
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Whether two generations lie on the same side of the LSN of an export still waiting for its delete (under the generation lock).</summary>
    private bool SameSideOfPendingFlush(BufferGeneration a, BufferGeneration b)
    {
        var boundary = _pendingFlushLsn;
        if (boundary < 0)
            return true;
        return (a.MaxLsn <= boundary && b.MaxLsn <= boundary) || (a.MinLsn > boundary && b.MinLsn > boundary);
    }

    /// <summary>
    /// Moves the rows of sealed generation <paramref name="source"/> into the compressed generation <paramref name="into"/>
    /// before it, then compresses the new rows. The copy commits together with the swap of the generation list, under
    /// the generation lock, so no snapshot sees the rows twice or not at all; snapshots already reading
    /// <paramref name="source"/> keep it until they close.
    /// </summary>
    private bool Merge(BufferGeneration source, BufferGeneration into)
    {
        var pool = _db.Connections;
        var connection = pool.Rent();
        var reusable = true;
        var detach = false;
        try
        {
            DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
            try
            {
                var rows = DuckDbCommands.Execute(connection, $"INSERT INTO {into.QuotedTable} SELECT * FROM {source.QuotedTable}");
                lock (_gate)
                {
                    DuckDbCommands.Execute(connection, "COMMIT");
                    into.Widen(source.MinLsn);
                    into.Widen(source.MaxLsn);
                    into.Rows += rows;
                    into.Compressed = false;
                    _generations.Remove(source);
                    source.Dropped = true;
                    if (source.Readers == 0 && !source.Detached)
                        detach = source.Detached = true;
                }
            }
            catch (DuckDBException e)
            {
                reusable = DuckDbCommands.TryRollback(connection);
                throw new BufferException($"merging a generation of the buffer of {Id} failed: {e.Message}", e);
            }
        }
        finally
        {
            pool.Return(connection, reusable);
        }
        if (detach)
            DetachNow([source], background: true);
        return Checkpoint(into);
    }

    private bool Checkpoint(BufferGeneration generation)
    {
        var pool = _db.Connections;
        var connection = pool.Rent();
        var reusable = true;
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            DuckDbCommands.Execute(connection, $"CHECKPOINT {generation.QuotedDatabase}");
            Stats.RecordCheckpoint(clock.Elapsed);
            lock (_gate)
                generation.Compressed = true;
            return true;
        }
        catch (DuckDBException e) when (e.Message.Contains("Cannot CHECKPOINT", StringComparison.OrdinalIgnoreCase))
        {
            Stats.RecordDeferral();
            return false;
        }
        catch (DuckDBException e)
        {
            reusable = DuckDbCommands.TryRollback(connection);
            throw new BufferException($"CHECKPOINT of the buffer of {Id} failed: {e.Message}", e);
        }
        finally
        {
            pool.Return(connection, reusable);
        }
    }

    /// <summary>
    /// Asks for the sealed generations to be compressed in the background. Requests made while one is queued are
    /// coalesced; at most <see cref="BufferOptions.MaxConcurrentCheckpoints"/> run at once; a deferred one is retried
    /// after <see cref="BufferOptions.CheckpointRetryDelay"/>. Failures are logged and kept in <see cref="BufferDatabase.LastBackgroundError"/>.
    /// </summary>
    internal void RequestCompression()
    {
        if (!_db.Options.CompressInBackground || Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _compressionRequested, 1) == 1)
            return;
        lock (_backgroundGate)
        {
            _backgroundCompression = _backgroundCompression.ContinueWith(_ => RunRequestedCompressionAsync(), CancellationToken.None,
                TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task RunRequestedCompressionAsync()
    {
        var shutdown = _db.ShutdownToken;
        try
        {
            await _db.CheckpointSlots.WaitAsync(shutdown).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        bool all;
        try
        {
            Interlocked.Exchange(ref _compressionRequested, 0);
            if (Volatile.Read(ref _disposed) != 0)
                return;
            all = await CompressSealedAsync(shutdown).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            return;
        }
        catch (Exception e)
        {
            _db.ReportBackgroundError(e, $"Background CHECKPOINT of the buffer of {Id}");
            return;
        }
        finally
        {
            _db.CheckpointSlots.Release();
        }
        _ = ReconcileInBackgroundAsync();
        if (!all)
            _ = RetryCompressionLaterAsync(shutdown);
    }

    private async Task RetryCompressionLaterAsync(CancellationToken shutdown)
    {
        try
        {
            await Task.Delay(_db.Options.CheckpointRetryDelay, shutdown).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        RequestCompression();
    }

    private async Task ReconcileInBackgroundAsync()
    {
        try
        {
            await _db.ReconcileMemoryAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            _db.ReportBackgroundError(e, "Reconciling the buffer memory budget with DuckDB");
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Marks generations dropped and detaches those no snapshot reads (the others detach when their last reader closes).</summary>
    private void DropGenerations(List<BufferGeneration> generations)
    {
        var detach = new List<BufferGeneration>();
        lock (_gate)
        {
            foreach (var g in generations)
            {
                _generations.Remove(g);
                g.Dropped = true;
                if (g.Readers == 0 && !g.Detached)
                {
                    g.Detached = true;
                    detach.Add(g);
                }
            }
        }
        DetachNow(detach, background: false);
    }

    private void DetachNow(List<BufferGeneration> generations, bool background)
    {
        if (generations.Count == 0)
            return;
        var pool = _db.Connections;
        DuckDBConnection connection;
        try
        {
            connection = pool.Rent();
        }
        catch (ObjectDisposedException)
        {
            return; // the instance is closing: everything goes with it
        }
        var reusable = true;
        try
        {
            foreach (var g in generations)
                DuckDbCommands.Execute(connection, $"DETACH DATABASE IF EXISTS {g.QuotedDatabase}");
        }
        catch (DuckDBException e)
        {
            reusable = false;
            var error = new BufferException($"detaching a generation of the buffer of {Id} failed: {e.Message}", e);
            if (!background)
                throw error;
            _db.ReportBackgroundError(error, $"Detaching a generation of the buffer of {Id}");
        }
        finally
        {
            pool.Return(connection, reusable);
        }
        _ = ReconcileInBackgroundAsync();
    }

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
