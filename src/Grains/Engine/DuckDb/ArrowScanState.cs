using Apache.Arrow;
using Apache.Arrow.C;

namespace TimeFusion.DuckDb;

/// <summary>
/// One scan of an <see cref="ArrowScanSource"/>: the slices still to hand out (taken by DuckDB's threads in turn) and
/// the projected schemas converted for DuckDB, one per distinct batch schema.
/// </summary>
internal sealed unsafe class ArrowScanState : IDisposable
{
    private readonly ArrowScanSource _source;
    private readonly int[] _projection; // table column per output column; -1 for a virtual column
    private readonly int[] _exported;   // output columns that are exported (not virtual), in order
    private readonly (int Batch, int Offset, int Length)[] _slices;
    private readonly Dictionary<Schema, (Schema Projected, ConvertedSchemaHandle Handle)> _converted = new(ReferenceEqualityComparer.Instance);
    private int _next = -1;
    private bool _disposed;

    public ArrowScanState(ArrowScanSource source, int[] projection, int sliceRows)
    {
        _source = source;
        _projection = projection;
        _exported = Enumerable.Range(0, projection.Length).Where(i => projection[i] >= 0).ToArray();
        var slices = new List<(int, int, int)>();
        for (var b = 0; b < source.Batches.Count; b++)
        {
            var length = source.Batches[b].Length;
            for (var offset = 0; offset < length; offset += sliceRows)
                slices.Add((b, offset, Math.Min(sliceRows, length - offset)));
        }
        _slices = slices.ToArray();
    }

    public int SliceCount => _slices.Length;

    /// <summary>Fills <paramref name="output"/> with the next slice, or leaves it empty when none is left.</summary>
    public void Fill(IntPtr output)
    {
        var index = Interlocked.Increment(ref _next);
        if (index >= _slices.Length)
        {
            DuckDbApi.duckdb_data_chunk_set_size(output, 0);
            return;
        }
        var (b, offset, length) = _slices[index];
        if (_exported.Length > 0)
        {
            var batch = _source.Batches[b];
            var (projected, converted) = Converted(batch.Schema);
            var arrays = new IArrowArray[_exported.Length];
            for (var i = 0; i < arrays.Length; i++)
            {
                var column = batch.Column(_projection[_exported[i]]);
                arrays[i] = offset == 0 && length == batch.Length ? column : ArrowArrayFactory.BuildArray(column.Data.Slice(offset, length));
            }
            using var exported = new OwnedArrowArray();
            CArrowArrayExporter.ExportRecordBatch(new RecordBatch(projected, arrays, length), exported.Pointer);
            var error = DuckDbApi.TakeError(DuckDbApi.duckdb_data_chunk_from_arrow(_source.Function.ConversionConnection, exported.Pointer, converted, out var chunk));
            using (chunk)
            {
                if (error is not null)
                    throw new InvalidOperationException("DuckDB could not convert buffered rows: " + error);
                if (chunk.IsInvalid)
                    throw new InvalidOperationException("DuckDB returned no data chunk for buffered rows");
                // The output's vectors share the converted ones' data (and whatever keeps it alive). DuckDB throws
                // across the C API if the types differ, so that is checked first.
                for (var i = 0; i < _exported.Length; i++)
                {
                    var from = DuckDbApi.duckdb_data_chunk_get_vector(chunk, (ulong)i);
                    var type = DuckDbApi.duckdb_vector_get_column_type(from);
                    var id = DuckDbApi.duckdb_get_type_id(type);
                    DuckDbApi.duckdb_destroy_logical_type(ref type);
                    var column = _projection[_exported[i]];
                    if (id != _source.TypeIds[column])
                        throw new InvalidOperationException($"column '{_source.Names[column]}' converted to DuckDB type {id}, the scan declares {_source.TypeIds[column]}");
                    DuckDbApi.duckdb_vector_reference_vector(DuckDbApi.duckdb_data_chunk_get_vector(output, (ulong)_exported[i]), from);
                }
            }
        }
        DuckDbApi.duckdb_data_chunk_set_size(output, (ulong)length);
    }

    private (Schema Projected, ConvertedSchemaHandle Handle) Converted(Schema schema)
    {
        lock (_converted)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_converted.TryGetValue(schema, out var found))
                return found;
            var projected = new Schema(_exported.Select(i => schema.FieldsList[_projection[i]]), metadata: null);
            using var exported = new OwnedArrowSchema();
            CArrowSchemaExporter.ExportSchema(projected, exported.Pointer);
            var error = DuckDbApi.TakeError(DuckDbApi.duckdb_schema_from_arrow(_source.Function.ConversionConnection, exported.Pointer, out var handle));
            if (error is not null || handle.IsInvalid)
            {
                handle.Dispose();
                throw new InvalidOperationException("DuckDB could not convert the buffered rows' schema: " + (error ?? "no schema returned"));
            }
            _converted.Add(schema, (projected, handle));
            return (projected, handle);
        }
    }

    public void Dispose()
    {
        lock (_converted)
        {
            _disposed = true;
            foreach (var (_, handle) in _converted.Values)
                handle.Dispose();
            _converted.Clear();
        }
    }
}
