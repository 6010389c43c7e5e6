using Apache.Arrow;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// Turns the byte stream of a COPY FROM STDIN (CopyData payloads, split anywhere) into Arrow batches of the
/// target schema. Complete rows are parsed as they arrive; an incomplete one waits for the next payload.
/// A bad row fails the whole COPY with the line and column in the error's context.
/// </summary>
internal abstract class CopyInParser : ICopyDataSink, IDisposable
{
    // The first piece taken to finish a split row: a few rows long (a longer row doubles it until it fits).
    private const int MinCarryPiece = 1024;

    private readonly Schema _schema;
    private readonly int _batchRows;
    private readonly long _batchBytes;
    private readonly int _maxRowBytes;
    private readonly Queue<RecordBatch> _ready = new();

    // The bytes of a row split across CopyData messages (and only those): complete rows are parsed straight from
    // each message's body, never copied.
    private byte[] _carry = [];
    private int _carryLength;
    private int _rowsInBatch;
    private CopySizeHint? _sizeHint;
    private string? _sizeKey;
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

    /// <summary>
    /// Starts the builders at the size of the last batch the connection's previous COPY into the same columns cut,
    /// and records this COPY's batches for the next one.
    /// </summary>
    public void UseSizeHint(CopySizeHint hint)
    {
        _sizeHint = hint;
        _sizeKey = Table + "(" + string.Join(",", Columns.Select(c => c.Field.Name)) + ")";
        if (hint.TryGet(_sizeKey, Columns.Length, out var rows, out var bytes))
        {
            for (var i = 0; i < Columns.Length; i++)
            {
                Columns[i].Reserve(Math.Min(rows, _batchRows), bytes[i]);
            }
        }
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
        var offset = 0;
        // A row began in an earlier message: complete it in the carry, taking the new bytes in growing pieces (a long
        // row costs linear time) until the parser consumes it; whatever follows it is then parsed in place.
        while (_carryLength > 0 && offset < data.Length && !Ended)
        {
            var piece = Math.Min(data.Length - offset, Math.Max(_carryLength, MinCarryPiece));
            AppendCarry(data.Slice(offset, piece));
            offset += piece;
            var consumed = Parse(_carry.AsSpan(0, _carryLength), final: false);
            if (consumed == 0)
            {
                continue;
            }
            var remaining = _carryLength - consumed;
            if (remaining <= piece)
            {
                // What is left of the carry is the tail of the piece just appended: parse it from the message instead.
                offset -= remaining;
                _carryLength = 0;
            }
            else
            {
                _carry.AsSpan(consumed, remaining).CopyTo(_carry);
                _carryLength = remaining;
            }
        }
        if (!Ended && offset < data.Length)
        {
            var rest = data[offset..];
            var consumed = Parse(rest, final: false);
            if (!Ended)
            {
                AppendCarry(rest[consumed..]);
            }
        }
        if (_carryLength > _maxRowBytes)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, $"COPY row is longer than {_maxRowBytes} bytes") { Where = Context() };
        }
    }

    /// <summary>The input ended (CopyDone): parses what is left and cuts the last batch.</summary>
    public void Finish()
    {
        if (!Ended && _carryLength > 0)
        {
            Parse(_carry.AsSpan(0, _carryLength), final: true);
        }
        _carryLength = 0;
        CutBatch();
        Dispose();
    }

    /// <summary>Returns the pooled carry buffer (the parser is done, or the COPY failed).</summary>
    public void Dispose()
    {
        if (_carry.Length > 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_carry);
            _carry = [];
        }
        _carryLength = 0;
    }

    /// <summary>Takes the next complete batch, if any.</summary>
    public bool TryTake(out RecordBatch batch) => _ready.TryDequeue(out batch!);

    /// <summary>
    /// Whether the fields being parsed are known to be valid UTF-8: text and CSV input is validated once per
    /// message (over its complete lines), not per field; when that fails, each field is checked on its own so the error
    /// names its line and column.
    /// </summary>
    protected bool InputIsUtf8 { get; private set; }

    /// <summary>Whether the format is line-based text whose input can be validated as UTF-8 up front (not binary).</summary>
    protected virtual bool ValidatesUtf8Upfront => true;

    /// <summary>Parses the complete rows at the start of <paramref name="data"/>; returns the bytes consumed.</summary>
    protected abstract int ParseAvailable(ReadOnlySpan<byte> data, bool final);

    private int Parse(ReadOnlySpan<byte> data, bool final)
    {
        if (ValidatesUtf8Upfront)
        {
            // Complete rows end at a newline (an ASCII byte: never inside a character), so this prefix holds them all.
            var complete = final ? data : data[..(data.LastIndexOf((byte)'\n') + 1)];
            InputIsUtf8 = System.Text.Unicode.Utf8.IsValid(complete);
        }
        return ParseAvailable(data, final);
    }

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
    protected void AppendText(int column, ReadOnlySpan<byte> value) => AppendText(column, value, InputIsUtf8);

    /// <summary>Appends a text-format value known (or not) to be valid UTF-8, adding COPY context to a conversion error.</summary>
    protected void AppendText(int column, ReadOnlySpan<byte> value, bool validUtf8)
    {
        try
        {
            Columns[column].AppendText(value, validUtf8);
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
        if (_sizeHint is not null)
        {
            _sizeHint.Record(_sizeKey!, _rowsInBatch, Columns.Select(c => c.ByteCount).ToArray());
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

    private void AppendCarry(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }
        if (_carry.Length - _carryLength < data.Length)
        {
            var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(_carry.Length * 2, 16 * 1024), _carryLength + data.Length));
            _carry.AsSpan(0, _carryLength).CopyTo(bigger);
            if (_carry.Length > 0)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(_carry);
            }
            _carry = bigger;
        }
        data.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength += data.Length;
    }
}
