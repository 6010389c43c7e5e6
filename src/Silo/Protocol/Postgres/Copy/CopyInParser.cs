using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// Turns the byte stream of a COPY FROM STDIN (CopyData payloads, split anywhere) into Arrow batches of the
/// target schema. Complete rows are parsed as they arrive; an incomplete one waits for the next payload.
/// A bad row fails the whole COPY with the line and column in the error's context.
/// </summary>
internal abstract class CopyInParser
{
    private readonly Schema _schema;
    private readonly int _batchRows;
    private readonly long _batchBytes;
    private readonly int _maxRowBytes;
    private readonly Queue<RecordBatch> _ready = new();
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private int _rowsInBatch;
    private long _bytesInBatch;

    protected CopyInParser(string table, Schema schema, TimeZoneInfo zone, int batchRows, long batchBytes, int maxRowBytes)
    {
        Table = table;
        _schema = schema;
        _batchRows = Math.Max(1, batchRows);
        _batchBytes = Math.Max(1, batchBytes);
        _maxRowBytes = maxRowBytes;
        Columns = schema.FieldsList.Select(f => CopyColumnBuilders.Create(f, zone)).ToArray();
    }

    protected string Table { get; }

    protected CopyColumnBuilder[] Columns { get; }

    /// <summary>Rows parsed so far (including those still in the current batch).</summary>
    public long Rows { get; private set; }

    /// <summary>The 1-based input line (text/CSV) or tuple number (binary) being parsed, for error context.</summary>
    protected long Line { get; set; }

    /// <summary>Whether the end-of-data marker was seen; later input is ignored.</summary>
    protected bool Ended { get; set; }

    /// <summary>Adds a CopyData payload and parses every row it completes.</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        if (Ended)
        {
            return;
        }
        Append(data);
        var consumed = ParseAvailable(_buffer.AsSpan(_start, _end - _start), final: false);
        _start += consumed;
        if (_start == _end)
        {
            _start = _end = 0;
        }
        if (_end - _start > _maxRowBytes)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, $"COPY row is longer than {_maxRowBytes} bytes") { Where = Context() };
        }
    }

    /// <summary>The input ended (CopyDone): parses what is left and cuts the last batch.</summary>
    public void Finish()
    {
        if (!Ended && _end > _start)
        {
            var consumed = ParseAvailable(_buffer.AsSpan(_start, _end - _start), final: true);
            _start += consumed;
        }
        CutBatch();
    }

    /// <summary>Takes the next complete batch, if any.</summary>
    public bool TryTake(out RecordBatch batch) => _ready.TryDequeue(out batch!);

    /// <summary>Parses the complete rows at the start of <paramref name="data"/>; returns the bytes consumed.</summary>
    protected abstract int ParseAvailable(ReadOnlySpan<byte> data, bool final);

    /// <summary>Marks a row complete; cuts a batch when it is full.</summary>
    protected void EndRow(int inputBytes)
    {
        Rows++;
        _rowsInBatch++;
        _bytesInBatch += inputBytes;
        if (_rowsInBatch >= _batchRows || _bytesInBatch >= _batchBytes)
        {
            CutBatch();
        }
    }

    /// <summary>Appends a text-format value, adding COPY context (line, column, value) to a conversion error.</summary>
    protected void AppendText(int column, ReadOnlySpan<byte> value)
    {
        try
        {
            Columns[column].AppendText(value);
        }
        catch (PostgresErrorException e) when (e.Where is null)
        {
            throw WithContext(e, column, System.Text.Encoding.UTF8.GetString(value[..Math.Min(value.Length, 100)]));
        }
    }

    /// <summary>Appends a binary-format value, adding COPY context to a conversion error.</summary>
    protected void AppendBinary(int column, ReadOnlySpan<byte> value)
    {
        try
        {
            Columns[column].AppendBinary(value);
        }
        catch (PostgresErrorException e) when (e.Where is null)
        {
            throw WithContext(e, column, null);
        }
    }

    /// <summary>Appends NULL, adding COPY context to a NOT NULL violation.</summary>
    protected void AppendNull(int column)
    {
        try
        {
            Columns[column].AppendNull();
        }
        catch (PostgresErrorException e) when (e.Where is null)
        {
            throw WithContext(e, column, null);
        }
    }

    private PostgresErrorException WithContext(PostgresErrorException e, int column, string? shown) =>
        new(e.SqlState, e.Message, e)
        {
            Detail = e.Detail,
            Hint = e.Hint,
            Where = shown is null
                ? $"COPY {Table}, line {Line}, column {Columns[column].Field.Name}"
                : $"COPY {Table}, line {Line}, column {Columns[column].Field.Name}: \"{shown}\"",
        };

    protected string Context() => $"COPY {Table}, line {Line}";

    protected PostgresErrorException BadFormat(string message) =>
        new(SqlState.BadCopyFileFormat, message) { Where = Context() };

    private void CutBatch()
    {
        if (_rowsInBatch == 0)
        {
            return;
        }
        var arrays = new IArrowArray[Columns.Length];
        for (var i = 0; i < Columns.Length; i++)
        {
            arrays[i] = Columns[i].Build();
        }
        _ready.Enqueue(new RecordBatch(_schema, arrays, _rowsInBatch));
        _rowsInBatch = 0;
        _bytesInBatch = 0;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_buffer.Length - _end < data.Length)
        {
            var live = _end - _start;
            if (_buffer.Length - live >= data.Length && _start > 0)
            {
                System.Buffer.BlockCopy(_buffer, _start, _buffer, 0, live);
            }
            else
            {
                var bigger = new byte[Math.Max(_buffer.Length * 2, live + data.Length)];
                System.Buffer.BlockCopy(_buffer, _start, bigger, 0, live);
                _buffer = bigger;
            }
            _start = 0;
            _end = live;
        }
        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }
}
