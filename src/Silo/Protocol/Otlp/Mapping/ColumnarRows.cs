using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// Builds one Arrow record batch for a table column by column, as rows are decoded. Columns are sparse: a column's
/// buffers exist only once some row sets it (earlier rows become nulls then), and a column no row set is left out of
/// the batch (ingest fills a missing nullable column, <c>date</c> and <c>project_id</c>). Most of the ~90 columns of
/// <c>otel_logs_and_spans</c> are empty for most rows, so this keeps the per-row work to the values a row has.
/// </summary>
internal sealed class ColumnarRows : IDisposable, IFlatTarget
{
    private readonly TableSchema _schema;
    private readonly Schema _arrow;
    private readonly Column?[] _columns;
    private readonly int _expectedRows;

    /// <summary>Rows built for <paramref name="schema"/>; <paramref name="expectedRows"/> sizes the column buffers (they grow beyond it).</summary>
    public ColumnarRows(TableSchema schema, int expectedRows = 64)
    {
        _schema = schema;
        _arrow = schema.ToArrowSchema();
        _columns = new Column?[schema.Columns.Count];
        _expectedRows = Math.Max(1, expectedRows);
    }

    /// <summary>The rows completed so far; the row being written is <see cref="Count"/>.</summary>
    public int Count { get; private set; }

    /// <summary>The ordinal of a column of the table; throws when the table has none of that name (a mapping bug).</summary>
    public static int Ordinal(TableSchema schema, string name) =>
        schema.IndexOf(name) is >= 0 and var i ? i : throw new InvalidOperationException($"table {schema.Name} has no column {name}");

    /// <summary>Ends the current row.</summary>
    public void EndRow() => Count++;

    /// <summary>Drops what the current row has set so far (a rejected item).</summary>
    public void AbandonRow()
    {
        foreach (var column in _columns) column?.Truncate(Count);
    }

    /// <summary>Sets a text or JSON column (UTF-8 bytes) of the current row.</summary>
    public void Utf8(int column, ReadOnlySpan<byte> utf8) => Strings(column).Set(Count, utf8);

    /// <summary>Sets a text or JSON column of the current row.</summary>
    public void String(int column, string value) => Strings(column).Set(Count, value);

    /// <summary>Sets a 64-bit integer column of the current row.</summary>
    public void Int64(int column, long value) => Primitive<long>(column).Set(Count, value);

    /// <summary>Sets a 32-bit integer column of the current row.</summary>
    public void Int32(int column, int value) => Primitive<int>(column).Set(Count, value);

    /// <summary>Sets a double column of the current row.</summary>
    public void Float64(int column, double value) => Primitive<double>(column).Set(Count, value);

    /// <summary>Sets a timestamp column (microseconds since the epoch, UTC) of the current row.</summary>
    public void TimestampMicros(int column, long micros) => Primitive<long>(column).Set(Count, micros);

    /// <summary>Sets a boolean column of the current row.</summary>
    public void Boolean(int column, bool value) => ((BooleanColumn)(_columns[column] ??= new BooleanColumn(_expectedRows))).Set(Count, value);

    /// <summary>
    /// The batch of the completed rows (only the columns some completed row set). Its buffers are pooled arrays of these rows:
    /// valid until <see cref="Dispose"/>, which must wait until nothing reads the batch any more.
    /// </summary>
    public RecordBatch Build()
    {
        var fields = new List<Field>();
        var arrays = new List<IArrowArray>();
        for (var c = 0; c < _columns.Length; c++)
        {
            if (_columns[c] is not { } column) continue;
            var field = _arrow.FieldsList[c];
            var array = column.Build(field.DataType, Count);
            if (array.NullCount == Count) continue; // only rows abandoned later set it: as if none had
            fields.Add(field);
            arrays.Add(array);
        }
        return new RecordBatch(new Schema(fields, null), arrays, Count);
    }

    /// <summary>Returns the column buffers to the pool; the batch built from them must no longer be read.</summary>
    public void Dispose()
    {
        for (var c = 0; c < _columns.Length; c++)
        {
            _columns[c]?.Return();
            _columns[c] = null;
        }
    }

    private StringColumn Strings(int column) => (StringColumn)(_columns[column] ??= new StringColumn(_expectedRows));

    private PrimitiveColumn<T> Primitive<T>(int column) where T : unmanaged => (PrimitiveColumn<T>)(_columns[column] ??= new PrimitiveColumn<T>(_expectedRows));

    /// <summary>The schema the rows are built for.</summary>
    public TableSchema Schema => _schema;

    private abstract class Column
    {
        public abstract void Truncate(int rows);

        public abstract IArrowArray Build(IArrowType type, int rows);

        public abstract void Return();
    }

    private sealed class StringColumn : Column
    {
        private readonly PooledBuffer<byte> _data;
        private readonly PooledBuffer<int> _offsets;
        private readonly PooledBitmap _valid;

        public StringColumn(int rows)
        {
            _data = new PooledBuffer<byte>(rows * 32);
            _offsets = new PooledBuffer<int>(rows + 1);
            _offsets.Append(0);
            _valid = new PooledBitmap(rows);
        }

        public void Set(int row, ReadOnlySpan<byte> utf8)
        {
            if (_valid.Length > row) return; // already set in this row (a repeated attribute key): the first wins
            PadTo(row);
            _data.Append(utf8);
            _offsets.Append(_data.Count);
            _valid.Append(true);
        }

        public void Set(int row, string value)
        {
            if (_valid.Length > row) return;
            PadTo(row);
            // Transcoded straight into the column's buffer: no intermediate array.
            var written = System.Text.Encoding.UTF8.GetBytes(value, _data.GetSpan(System.Text.Encoding.UTF8.GetMaxByteCount(value.Length)));
            _data.Advance(written);
            _offsets.Append(_data.Count);
            _valid.Append(true);
        }

        public override void Truncate(int rows)
        {
            if (_valid.Length <= rows) return;
            _valid.Truncate(rows);
            _offsets.Resize(rows + 1);
            _data.Resize(_offsets.Span[rows]);
        }

        public override IArrowArray Build(IArrowType type, int rows)
        {
            PadTo(rows);
            return new StringArray(new ArrayData(type, rows, _valid.UnsetCount(), 0, [_valid.ToArrowBuffer(), _offsets.ToArrowBuffer(), _data.ToArrowBuffer()]));
        }

        public override void Return()
        {
            _data.Return();
            _offsets.Return();
            _valid.Return();
        }

        private void PadTo(int row)
        {
            while (_valid.Length < row)
            {
                _offsets.Append(_data.Count);
                _valid.Append(false);
            }
        }
    }

    private sealed class PrimitiveColumn<T>(int rows) : Column where T : unmanaged
    {
        private readonly PooledBuffer<T> _values = new(rows);
        private readonly PooledBitmap _valid = new(rows);

        public void Set(int row, T value)
        {
            if (_valid.Length > row) return;
            PadTo(row);
            _values.Append(value);
            _valid.Append(true);
        }

        public override void Truncate(int rows)
        {
            if (_valid.Length <= rows) return;
            _values.Resize(rows);
            _valid.Truncate(rows);
        }

        public override IArrowArray Build(IArrowType type, int rows)
        {
            PadTo(rows);
            return ArrowArrayFactory.BuildArray(new ArrayData(type, rows, _valid.UnsetCount(), 0, [_valid.ToArrowBuffer(), _values.ToArrowBuffer()]));
        }

        public override void Return()
        {
            _values.Return();
            _valid.Return();
        }

        private void PadTo(int row)
        {
            while (_valid.Length < row)
            {
                _values.Append(default(T));
                _valid.Append(false);
            }
        }
    }

    private sealed class BooleanColumn(int rows) : Column
    {
        private readonly PooledBitmap _values = new(rows);
        private readonly PooledBitmap _valid = new(rows);

        public void Set(int row, bool value)
        {
            if (_valid.Length > row) return;
            PadTo(row);
            _values.Append(value);
            _valid.Append(true);
        }

        public override void Truncate(int rows)
        {
            if (_valid.Length <= rows) return;
            _values.Truncate(rows);
            _valid.Truncate(rows);
        }

        public override IArrowArray Build(IArrowType type, int rows)
        {
            PadTo(rows);
            return new BooleanArray(new ArrayData(type, rows, _valid.UnsetCount(), 0, [_valid.ToArrowBuffer(), _values.ToArrowBuffer()]));
        }

        public override void Return()
        {
            _values.Return();
            _valid.Return();
        }

        private void PadTo(int row)
        {
            while (_valid.Length < row)
            {
                _values.Append(false);
                _valid.Append(false);
            }
        }
    }
}
