using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.C;
using Apache.Arrow.Types;
using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.Ingest;

namespace TimeFusion.DuckDb;

/// <summary>
/// Appends Arrow record batches to one DuckDB table through the C API: the batch schema is converted once
/// (<c>duckdb_schema_from_arrow</c>, cached per distinct incoming schema), then each slice of the batch,
/// with a constant <c>_lsn</c> column added, is exported through the Arrow C data interface, turned into a
/// DataChunk (<c>duckdb_data_chunk_from_arrow</c>, which takes the exported array over) and handed to an
/// appender. The appender commits as it goes, so callers wrap <see cref="Append(ValidatedBatch, long)"/> in a transaction on the
/// same connection and call <see cref="Abandon"/> before rolling back a failed one.
/// Not thread-safe: one instance per table, used under the table's append lock.
/// </summary>
internal sealed unsafe class ArrowChunkAppender : IDisposable
{
    private const int MaxCachedSchemas = 16;

    private readonly ConnectionLease _connection;
    private readonly string _tableName;
    private readonly string? _catalog;
    private readonly string? _lsnColumn;
    private readonly int _rowsPerChunk;
    private readonly ConstantInt64Column? _lsnValues;
    private readonly Dictionary<string, ConvertedSchema> _schemas = new(StringComparer.Ordinal);
    private Schema? _lastSchema;
    private ConvertedSchema? _lastConverted;
    private AppenderHandle? _appender;
    private bool _disposed;

    /// <param name="connection">An open connection; this instance keeps its native handle alive until disposed.</param>
    /// <param name="tableName">The unquoted table name in the default schema.</param>
    /// <param name="lsnColumn">Name of the LSN column, the table's last column; null for a table without one (benchmarks).</param>
    /// <param name="rowsPerChunk">Rows per DataChunk handed to DuckDB.</param>
    /// <param name="catalog">The database (catalog) holding the table, or null for the default one.</param>
    /// <exception cref="ObjectDisposedException"><paramref name="connection"/> is closed.</exception>
    public ArrowChunkAppender(DuckDBConnection connection, string tableName, string? lsnColumn, int rowsPerChunk, string? catalog = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerChunk, 1);
        if (lsnColumn is not null)
            ArgumentException.ThrowIfNullOrEmpty(lsnColumn);
        _connection = ConnectionLease.Acquire(connection);
        _tableName = tableName;
        _catalog = catalog;
        _lsnColumn = lsnColumn;
        _rowsPerChunk = rowsPerChunk;
        _lsnValues = lsnColumn is null ? null : new ConstantInt64Column(rowsPerChunk);
    }

    /// <summary>
    /// Appends every row of <paramref name="validated"/> tagged with <paramref name="lsn"/> and flushes the appender.
    /// Only a <see cref="ValidatedBatch"/> is accepted: DuckDB's conversion trusts every buffer length, offset and
    /// index. The batch stays valid and owned by the caller.
    /// </summary>
    /// <exception cref="BufferException">DuckDB refused the data (e.g. a NOT NULL violation) or the conversion failed.</exception>
    /// <exception cref="ArgumentException">The batch's column count does not fit the table's.</exception>
    public void Append(ValidatedBatch validated, long lsn) => Append(validated, lsn, flush: true);

    /// <summary>
    /// As <see cref="Append(ValidatedBatch, long)"/>; with <paramref name="flush"/> false the rows stay in the
    /// appender until <see cref="Flush"/> (one flush for a group of small batches appended in one transaction).
    /// </summary>
    public void Append(ValidatedBatch validated, long lsn, bool flush)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(validated);
        var batch = validated.Batch;
        if (batch.Length == 0)
            return;
        var columns = batch.ColumnCount;
        if (columns != batch.Schema.FieldsList.Count)
            throw new ArgumentException($"the batch has {columns} columns but its schema {batch.Schema.FieldsList.Count}", nameof(validated));
        var appender = EnsureAppender();
        // DuckDB's conversion indexes the table's columns by the batch's: a count mismatch must stop here.
        var expected = (long)DuckDbApi.duckdb_appender_column_count(appender) - (_lsnValues is null ? 0 : 1);
        if (columns != expected)
            throw new ArgumentException($"the batch has {columns} columns but table '{_tableName}' takes {expected}", nameof(validated));
        var converted = Convert(batch.Schema);
        for (var offset = 0; offset < batch.Length; offset += _rowsPerChunk)
        {
            var rows = Math.Min(_rowsPerChunk, batch.Length - offset);
            var arrays = new IArrowArray[_lsnValues is null ? columns : columns + 1];
            for (var c = 0; c < columns; c++)
            {
                var column = batch.Column(c);
                arrays[c] = offset == 0 && rows == batch.Length
                    ? column
                    : ArrowArrayFactory.BuildArray(column.Data.Slice(offset, rows));
            }
            if (_lsnValues is not null)
                arrays[columns] = _lsnValues.Create(lsn, rows);
            AppendChunk(appender, new RecordBatch(converted.SchemaWithLsn, arrays, rows), converted.Handle);
        }
        if (flush)
            Flush();
    }

    /// <summary>Hands the rows appended so far to the table (inside the caller's transaction).</summary>
    /// <exception cref="BufferException">DuckDB refused the rows.</exception>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_appender is not { } appender)
            return;
        if (DuckDbApi.duckdb_appender_flush(appender) != DuckDbApi.Success)
            throw new BufferException("DuckDB rejected the batch: " + AppenderError(appender));
    }

    /// <summary>
    /// Drops whatever the appender still buffers and destroys it, so that nothing of a failed batch can be
    /// flushed later. Call inside the failed transaction, before ROLLBACK.
    /// </summary>
    public void Abandon()
    {
        var appender = _appender;
        if (appender is null)
            return;
        _appender = null;
        DuckDbApi.duckdb_appender_clear(appender);
        // Destroy flushes what is left (nothing after clear) and reports the earlier error again: ignore the state.
        appender.Dispose();
    }

    private void AppendChunk(AppenderHandle appender, RecordBatch slice, ConvertedSchemaHandle converted)
    {
        using var exported = new OwnedArrowArray();
        CArrowArrayExporter.ExportRecordBatch(slice, exported.Pointer);
        // On success DuckDB moves the array into the chunk (exported->release becomes null); on failure
        // it may not have, and disposing the struct releases it.
        var error = DuckDbApi.TakeError(DuckDbApi.duckdb_data_chunk_from_arrow(_connection.Handle, exported.Pointer, converted, out var chunk));
        using (chunk)
        {
            if (error is not null)
                throw new BufferException("DuckDB could not convert the Arrow batch: " + error);
            if (chunk.IsInvalid)
                throw new BufferException("DuckDB returned no data chunk for the Arrow batch");
            if (DuckDbApi.duckdb_append_data_chunk(appender, chunk) != DuckDbApi.Success)
                throw new BufferException("DuckDB rejected the batch: " + AppenderError(appender));
        }
    }

    private AppenderHandle EnsureAppender()
    {
        if (_appender is not null)
            return _appender;
        if (DuckDbApi.duckdb_appender_create_ext(_connection.Handle, _catalog, null, _tableName, out var appender) != DuckDbApi.Success)
        {
            using (appender)
            {
                var message = appender.IsInvalid ? null : Marshal.PtrToStringUTF8(DuckDbApi.duckdb_appender_error(appender));
                throw new BufferException("DuckDB could not create an appender: " + (message ?? "unknown error"));
            }
        }
        return _appender = appender;
    }

    private static string AppenderError(AppenderHandle appender) =>
        DuckDbApi.Text(DuckDbApi.duckdb_appender_error(appender), "unknown error");

    private ConvertedSchema Convert(Schema schema)
    {
        if (ReferenceEquals(schema, _lastSchema) && _lastConverted is not null)
            return _lastConverted;
        var key = SchemaKey(schema);
        if (!_schemas.TryGetValue(key, out var converted))
        {
            if (_schemas.Count >= MaxCachedSchemas)
                ClearSchemas();
            converted = CreateConverted(schema);
            _schemas.Add(key, converted);
        }
        _lastSchema = schema;
        _lastConverted = converted;
        return converted;
    }

    private ConvertedSchema CreateConverted(Schema schema)
    {
        var fields = new List<Field>(schema.FieldsList);
        if (_lsnColumn is not null)
            fields.Add(new Field(_lsnColumn, Int64Type.Default, nullable: false));
        var withLsn = new Schema(fields, metadata: null);
        // duckdb_schema_from_arrow copies what it needs; the exported schema stays ours to release.
        using var exported = new OwnedArrowSchema();
        CArrowSchemaExporter.ExportSchema(withLsn, exported.Pointer);
        var error = DuckDbApi.TakeError(DuckDbApi.duckdb_schema_from_arrow(_connection.Handle, exported.Pointer, out var handle));
        if (error is not null || handle.IsInvalid)
        {
            handle.Dispose();
            throw new BufferException("DuckDB could not convert the Arrow schema: " + (error ?? "no schema returned"));
        }
        return new ConvertedSchema(withLsn, handle);
    }

    /// <summary>A structural key of the Arrow types and names, so equal schemas share one conversion.</summary>
    private static string SchemaKey(Schema schema)
    {
        var sb = new System.Text.StringBuilder(schema.FieldsList.Count * 16);
        foreach (var f in schema.FieldsList)
        {
            sb.Append(f.Name.Length).Append(':').Append(f.Name).Append('=');
            AppendType(sb, f.DataType);
            sb.Append(f.IsNullable ? '?' : '!').Append(';');
        }
        return sb.ToString();
    }

    private static void AppendType(System.Text.StringBuilder sb, IArrowType type)
    {
        sb.Append((int)type.TypeId);
        switch (type)
        {
            case TimestampType ts:
                sb.Append('[').Append((int)ts.Unit).Append(',').Append(ts.Timezone).Append(']');
                break;
            case DictionaryType d:
                sb.Append('<');
                AppendType(sb, d.IndexType);
                sb.Append(',');
                AppendType(sb, d.ValueType);
                sb.Append('>');
                break;
            case NestedType n:
                sb.Append('<');
                foreach (var child in n.Fields)
                {
                    AppendType(sb, child.DataType);
                    sb.Append(',');
                }
                sb.Append('>');
                break;
        }
    }

    private void ClearSchemas()
    {
        foreach (var s in _schemas.Values)
            s.Dispose();
        _schemas.Clear();
        _lastSchema = null;
        _lastConverted = null;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Abandon();
        ClearSchemas();
        _lsnValues?.Dispose();
        _connection.Dispose();
    }

    private sealed class ConvertedSchema(Schema schemaWithLsn, ConvertedSchemaHandle handle) : IDisposable
    {
        public Schema SchemaWithLsn { get; } = schemaWithLsn;

        public ConvertedSchemaHandle Handle { get; } = handle;

        public void Dispose() => Handle.Dispose();
    }
}
