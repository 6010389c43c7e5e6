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
/// One (project, table)'s buffered rows: a DuckDB table of the schema's columns plus <c>_lsn</c>, the WAL
/// LSN of the entry that brought each row (DESIGN.md §2.5). Appends go through the C API's Arrow-to-DataChunk
/// conversion on the table's own connection, each batch in its own transaction (atomic). DML, flush exports
/// and deletes run on pooled connections and are serialized with each other (two overlapping DELETEs
/// conflict in DuckDB); appends do not wait for them. Operations apply in the order their calls complete:
/// a DML sees every append that completed before it was called.
/// </summary>
public sealed class BufferTable : IAsyncDisposable
{
    /// <summary>The LSN column every buffer table has after the schema's columns.</summary>
    public const string LsnColumn = "_lsn";

    private readonly BufferDatabase _db;
    private readonly SemaphoreSlim _appendLock = new(1, 1);
    private readonly SemaphoreSlim _maintenanceLock = new(1, 1);
    private readonly ReservationLedger _reservations = new();
    private readonly string _exportColumns;
    private DuckDBConnection? _appendConnection;
    private ArrowChunkAppender? _appender;
    private long _rowCount;
    private long _maxLsn = -1;
    private int _disposed;

    private BufferTable(BufferDatabase db, TableId id, TableSchema schema, string name)
    {
        _db = db;
        Id = id;
        Schema = schema;
        TableName = name;
        QuotedTableName = SqlNames.Quote(name);
        _exportColumns = string.Join(", ", schema.Columns.Where(c => c.Name != TableSchema.DateColumn).Select(c => SqlNames.Quote(c.Name)));
    }

    /// <summary>The (project, table) this buffer belongs to.</summary>
    public TableId Id { get; }

    /// <summary>The table's schema.</summary>
    public TableSchema Schema { get; }

    /// <summary>The DuckDB table name (unquoted): <c>buf_</c> + a hash of the project and table names.</summary>
    public string TableName { get; }

    /// <summary>The DuckDB table name, quoted for SQL.</summary>
    public string QuotedTableName { get; }

    /// <summary>Rows in the buffer now (appended minus deleted).</summary>
    public long RowCount => Interlocked.Read(ref _rowCount);

    /// <summary>The highest LSN appended, or -1 when nothing has been.</summary>
    public long MaxLsn => Interlocked.Read(ref _maxLsn);

    /// <summary>Bytes of the memory reservations this table holds (released when rows are flushed and deleted).</summary>
    public long ReservedBytes => _reservations.Bytes;

    /// <summary>The DuckDB table name for a table id: stable, collision-resistant and free of any character of the names.</summary>
    public static string TableNameFor(TableId id)
    {
        var bytes = Encoding.UTF8.GetBytes(id.Project + "\0" + id.Table);
        return "buf_" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16));
    }

    /// <summary>Creates the buffer table for <paramref name="id"/>, dropping a stale one of the same id.</summary>
    public static async Task<BufferTable> CreateAsync(BufferDatabase db, TableId id, TableSchema schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(schema);
        if (schema.Find(LsnColumn) is not null)
            throw new SchemaException($"table '{schema.Name}': column name '{LsnColumn}' is reserved by the buffer");
        cancellationToken.ThrowIfCancellationRequested();
        // A live instance of the same id is stale (e.g. an old activation): retire it so that its later
        // disposal cannot drop the new table, and give its reservations back.
        if (db.Tables.TryGetValue(id, out var stale))
            await stale.DisposeAsync().ConfigureAwait(false);
        var table = new BufferTable(db, id, schema, TableNameFor(id));
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
            DuckDbCommands.Execute(connection, $"DROP TABLE IF EXISTS {QuotedTableName}");
            DuckDbCommands.Execute(connection, $"CREATE TABLE {QuotedTableName} ({Schema.ToDuckDbColumns()}, {SqlNames.Quote(LsnColumn)} BIGINT NOT NULL)");
            OpenAppender(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void OpenAppender(DuckDBConnection connection)
    {
        _appendConnection = connection;
        _appender = new ArrowChunkAppender(connection.NativeConnection.DangerousGetHandle(), TableName, LsnColumn, _db.Options.RowsPerChunk);
    }

    /// <summary>The memory estimate for appending <paramref name="batch"/> (Arrow bytes plus the LSN column, times the estimate factor).</summary>
    public long EstimateBytes(RecordBatch batch) =>
        (long)Math.Ceiling((ArrowSizeEstimator.BufferBytes(batch) + 8L * batch.Length) * _db.Options.EstimateFactor);

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
        CheckLsnArgument(lsn);
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
            CheckLsnArgument(lsn);
            ArrowBatchValidator.Validate(batch, Schema, _db.Options.ValidateUtf8);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        await AppendValidatedAsync(batch, lsn, reservation, cancellationToken).ConfigureAwait(false);
    }

    private static void CheckLsnArgument(long lsn) => ArgumentOutOfRangeException.ThrowIfNegative(lsn);

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
                throw new ArgumentOutOfRangeException(nameof(lsn), lsn, $"LSNs must not decrease: {TableName} already holds LSN {_maxLsn}");
            if (batch.Length > 0)
                AppendInTransaction(batch, lsn);
            reservation.MarkHeld();
            _reservations.Add(lsn, reservation);
            Interlocked.Add(ref _rowCount, batch.Length);
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
        if (_appendConnection is null || _appender is null)
            OpenAppender(_db.Connections.OpenNew());
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
                // The connection is in an unknown state: replace it before the next append.
                appender.Dispose();
                connection.Dispose();
                _appender = null;
                _appendConnection = null;
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
    public BufferSnapshot OpenSnapshot(long aboveLsn)
    {
        ThrowIfDisposed();
        var pool = _db.Connections;
        var connection = pool.Rent();
        try
        {
            DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
            // DuckDB starts a transaction's snapshot at its first statement that touches the database.
            DuckDbCommands.Execute(connection, $"SELECT 1 FROM {QuotedTableName} LIMIT 0");
            return new BufferSnapshot(pool, connection, QuotedTableName, aboveLsn);
        }
        catch
        {
            pool.Return(connection, DuckDbCommands.TryRollback(connection));
            throw;
        }
    }

    /// <summary>
    /// Writes the rows with LSN at or below <paramref name="upToLsn"/> to Parquet, one file per date partition under
    /// <paramref name="directory"/> (<c>date=YYYY-MM-DD/part-…-c000.zstd.parquet</c>), sorted by timestamp, zstd,
    /// 122,880-row groups, with statistics from DuckDB's <c>RETURN_STATS</c>. All files come from one snapshot.
    /// Rows are not deleted: call <see cref="DeleteUpToAsync"/> once the Delta commit holding the files succeeded.
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
            return await Task.Run(() => Export(upToLsn, root, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    private List<ExportedFile> Export(long upToLsn, string root, CancellationToken cancellationToken)
    {
        var files = new List<ExportedFile>();
        var lsn = SqlNames.Quote(LsnColumn);
        var date = SqlNames.Quote(TableSchema.DateColumn);
        var ts = SqlNames.Quote(TableSchema.TimestampColumn);
        RunInTransaction(connection =>
        {
            try
            {
                var dates = new List<DateOnly>();
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = $"SELECT DISTINCT {date} FROM {QuotedTableName} WHERE {lsn} <= {upToLsn} ORDER BY 1";
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
                    var sql = $"COPY (SELECT {_exportColumns} FROM {QuotedTableName} WHERE {lsn} <= {upToLsn} AND {date} = DATE '{dayText}' ORDER BY {ts}) "
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

    private ExportedFile CopyOne(DuckDBConnection connection, string sql, DateOnly day, string path, string relative, CancellationToken cancellationToken)
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
    /// Deletes the rows with LSN at or below <paramref name="lsn"/> (after their flush committed), releases their
    /// memory reservations to the budget and asks for a background CHECKPOINT. Returns the rows deleted.
    /// </summary>
    public async Task<long> DeleteUpToAsync(long lsn, CancellationToken cancellationToken)
    {
        var deleted = await RunMaintenanceAsync(connection =>
            DuckDbCommands.Execute(connection, $"DELETE FROM {QuotedTableName} WHERE {SqlNames.Quote(LsnColumn)} <= {lsn}"), cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _rowCount, -deleted);
        _reservations.ReleaseUpTo(lsn);
        if (_db.Options.CheckpointAfterDelete)
            _db.RequestCheckpoint();
        return deleted;
    }

    /// <summary>Applies <c>DELETE … WHERE (<paramref name="predicateSql"/>)</c> to the buffered rows atomically; returns the rows deleted.</summary>
    /// <exception cref="ArgumentException">The predicate is not a single SQL expression.</exception>
    /// <exception cref="BufferException">DuckDB rejected the statement; nothing changed.</exception>
    public async Task<long> ApplyDeleteAsync(string predicateSql, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predicateSql);
        var deleted = await RunMaintenanceAsync(connection =>
        {
            CheckSingleSelect(connection, $"SELECT 1 FROM {QuotedTableName} WHERE ({predicateSql})");
            return DuckDbCommands.Execute(connection, $"DELETE FROM {QuotedTableName} WHERE ({predicateSql})");
        }, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _rowCount, -deleted);
        if (deleted > 0 && _db.Options.CheckpointAfterDelete)
            _db.RequestCheckpoint();
        return deleted;
    }

    /// <summary>
    /// Applies <c>UPDATE … SET col = (expr), … WHERE (<paramref name="predicateSql"/>)</c> to the buffered rows
    /// atomically; returns the rows updated.
    /// </summary>
    /// <exception cref="ArgumentException">No assignments, an unknown column, or SQL text that is not a single expression.</exception>
    /// <exception cref="BufferException">DuckDB rejected the statement; nothing changed.</exception>
    public Task<long> ApplyUpdateAsync(string predicateSql, IReadOnlyList<KeyValuePair<string, string>> assignments, CancellationToken cancellationToken)
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
        return RunMaintenanceAsync(connection =>
        {
            CheckSingleSelect(connection, $"SELECT {check} FROM {QuotedTableName} WHERE ({predicateSql})");
            return DuckDbCommands.Execute(connection, $"UPDATE {QuotedTableName} SET {set} WHERE ({predicateSql})");
        }, cancellationToken);
    }

    /// <summary>
    /// Makes sure caller-given SQL fragments, placed in a SELECT exactly as they will be placed in the DML, parse as
    /// one SELECT statement: a fragment cannot smuggle a second statement in.
    /// </summary>
    private static void CheckSingleSelect(DuckDBConnection connection, string select)
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

    private Task<long> RunMaintenanceAsync(Func<DuckDBConnection, long> work, CancellationToken cancellationToken) =>
        RunSerializedAsync(() => RunInTransaction(work, cancellationToken), cancellationToken);

    private async Task<long> RunSerializedAsync(Func<long> work, CancellationToken cancellationToken)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            return await Task.Run(work, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }
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
            long result;
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                result = work(connection);
                DuckDbCommands.Execute(connection, "COMMIT");
            }
            catch (Exception e)
            {
                reusable = DuckDbCommands.TryRollback(connection);
                if (e is DuckDBException)
                    throw new BufferException($"buffer of {Id}: {e.Message}", e);
                throw;
            }
            return result;
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

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Drops the buffer table and releases its reservations (their memory comes back at the next CHECKPOINT).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // Only the registered instance owns the DuckDB table; a retired one must not drop its successor's.
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
                    if (!owner)
                        return;
                    var pool = _db.Connections;
                    var connection = pool.Rent();
                    var reusable = false;
                    try
                    {
                        DuckDbCommands.Execute(connection, $"DROP TABLE IF EXISTS {QuotedTableName}");
                        reusable = true;
                    }
                    finally
                    {
                        pool.Return(connection, reusable);
                    }
                }
                finally
                {
                    _reservations.ReleaseAll();
                    Interlocked.Exchange(ref _rowCount, 0);
                }
            }).ConfigureAwait(false);
            _db.RequestCheckpoint();
        }
        finally
        {
            _maintenanceLock.Release();
            _appendLock.Release();
        }
    }
}
