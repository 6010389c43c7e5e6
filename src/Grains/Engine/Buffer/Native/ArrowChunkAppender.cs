using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.C;
using Apache.Arrow.Types;

namespace TimeFusion.Buffer.Native;

/// <summary>
/// Appends Arrow record batches to one DuckDB table through the C API: the batch schema is converted once
/// (<c>duckdb_schema_from_arrow</c>, cached per distinct incoming schema), then each slice of the batch,
/// with a constant <c>_lsn</c> column added, is exported through the Arrow C data interface, turned into a
/// DataChunk (<c>duckdb_data_chunk_from_arrow</c>, which takes the exported array over) and handed to an
/// appender. The appender commits as it goes, so callers wrap <see cref="Append"/> in a transaction on the
/// same connection and call <see cref="Abandon"/> before rolling back a failed one.
/// Not thread-safe: one instance per table, used under the table's append lock.
/// </summary>
internal sealed unsafe class ArrowChunkAppender : IDisposable
{
    private const int MaxCachedSchemas = 16;

    private readonly IntPtr _connection;
    private readonly byte[] _tableName;
    private readonly byte[]? _catalog;
    private readonly string? _lsnColumn;
    private readonly int _rowsPerChunk;
    private readonly ConstantInt64Column? _lsnValues;
    private readonly Dictionary<string, ConvertedSchema> _schemas = new(StringComparer.Ordinal);
    private Schema? _lastSchema;
    private ConvertedSchema? _lastConverted;
    private IntPtr _appender;
    private bool _disposed;

    /// <param name="connection">A <c>duckdb_connection</c> that stays open for this instance's lifetime.</param>
    /// <param name="tableName">The unquoted table name in the default schema.</param>
    /// <param name="lsnColumn">Name of the LSN column, the table's last column; null for a table without one (benchmarks).</param>
    /// <param name="rowsPerChunk">Rows per DataChunk handed to DuckDB.</param>
    /// <param name="catalog">The database (catalog) holding the table, or null for the default one.</param>
    public ArrowChunkAppender(IntPtr connection, string tableName, string? lsnColumn, int rowsPerChunk, string? catalog = null)
    {
        if (connection == IntPtr.Zero)
            throw new ArgumentException("connection handle is null", nameof(connection));
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerChunk, 1);
        _connection = connection;
        _tableName = DuckDbNative.Utf8Z(tableName);
        _catalog = catalog is null ? null : DuckDbNative.Utf8Z(catalog);
        _lsnColumn = lsnColumn;
        _rowsPerChunk = rowsPerChunk;
        _lsnValues = lsnColumn is null ? null : new ConstantInt64Column(rowsPerChunk);
    }

    /// <summary>
    /// Appends every row of <paramref name="batch"/> tagged with <paramref name="lsn"/> and flushes the appender.
    /// The batch must already be validated (<see cref="ArrowBatchValidator"/>); it stays valid and owned by the caller.
    /// </summary>
    /// <exception cref="BufferException">DuckDB refused the data (e.g. a NOT NULL violation) or the conversion failed.</exception>
    public void Append(RecordBatch batch, long lsn)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (batch.Length == 0)
            return;
        var converted = Convert(batch.Schema);
        EnsureAppender();
        var columns = batch.ColumnCount;
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
            AppendChunk(new RecordBatch(converted.SchemaWithLsn, arrays, rows), converted.Handle);
        }
        if (DuckDbNative.duckdb_appender_flush(_appender) != DuckDbNative.Success)
            throw new BufferException("DuckDB rejected the batch: " + AppenderError());
    }

    /// <summary>
    /// Drops whatever the appender still buffers and destroys it, so that nothing of a failed batch can be
    /// flushed later. Call inside the failed transaction, before ROLLBACK.
    /// </summary>
    public void Abandon()
    {
        if (_appender == IntPtr.Zero)
            return;
        DuckDbNative.duckdb_appender_clear(_appender);
        // Destroy flushes what is left (nothing after clear) and reports the earlier error again: ignore the state.
        DuckDbNative.duckdb_appender_destroy(ref _appender);
        _appender = IntPtr.Zero;
    }

    private void AppendChunk(RecordBatch slice, IntPtr converted)
    {
        var exported = CArrowArray.Create();
        IntPtr chunk = IntPtr.Zero;
        try
        {
            CArrowArrayExporter.ExportRecordBatch(slice, exported);
            // On success DuckDB moves the array into the chunk (exported->release becomes null); on failure
            // it may not have, and CArrowArray.Free releases it.
            var error = DuckDbNative.TakeError(DuckDbNative.duckdb_data_chunk_from_arrow(_connection, exported, converted, out chunk));
            if (error is not null)
                throw new BufferException("DuckDB could not convert the Arrow batch: " + error);
            if (chunk == IntPtr.Zero)
                throw new BufferException("DuckDB returned no data chunk for the Arrow batch");
            if (DuckDbNative.duckdb_append_data_chunk(_appender, chunk) != DuckDbNative.Success)
                throw new BufferException("DuckDB rejected the batch: " + AppenderError());
        }
        finally
        {
            if (chunk != IntPtr.Zero)
                DuckDbNative.duckdb_destroy_data_chunk(ref chunk);
            CArrowArray.Free(exported);
        }
    }

    private void EnsureAppender()
    {
        if (_appender != IntPtr.Zero)
            return;
        fixed (byte* table = _tableName)
        fixed (byte* catalog = _catalog)
        {
            if (DuckDbNative.duckdb_appender_create_ext(_connection, catalog, null, table, out var appender) != DuckDbNative.Success)
            {
                var message = appender != IntPtr.Zero ? Marshal.PtrToStringUTF8(DuckDbNative.duckdb_appender_error(appender)) : null;
                if (appender != IntPtr.Zero)
                    DuckDbNative.duckdb_appender_destroy(ref appender);
                throw new BufferException("DuckDB could not create an appender: " + (message ?? "unknown error"));
            }
            _appender = appender;
        }
    }

    private string AppenderError() =>
        Marshal.PtrToStringUTF8(DuckDbNative.duckdb_appender_error(_appender)) ?? "unknown error";

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
        var exported = CArrowSchema.Create();
        try
        {
            CArrowSchemaExporter.ExportSchema(withLsn, exported);
            var error = DuckDbNative.TakeError(DuckDbNative.duckdb_schema_from_arrow(_connection, exported, out var handle));
            if (error is not null)
            {
                if (handle != IntPtr.Zero)
                    DuckDbNative.duckdb_destroy_arrow_converted_schema(ref handle);
                throw new BufferException("DuckDB could not convert the Arrow schema: " + error);
            }
            return new ConvertedSchema(withLsn, handle);
        }
        finally
        {
            // duckdb_schema_from_arrow copies what it needs; the exported schema stays ours to release.
            CArrowSchema.Free(exported);
        }
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
    }

    private sealed class ConvertedSchema(Schema schemaWithLsn, IntPtr handle) : IDisposable
    {
        private IntPtr _handle = handle;

        public Schema SchemaWithLsn { get; } = schemaWithLsn;

        public IntPtr Handle => _handle;

        public void Dispose()
        {
            if (_handle != IntPtr.Zero)
                DuckDbNative.duckdb_destroy_arrow_converted_schema(ref _handle);
        }
    }
}
