using Apache.Arrow;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// Turns the byte stream of a COPY FROM STDIN (CopyData payloads, split anywhere) into Arrow batches of the
/// target schema. Complete rows are parsed as they arrive; an incomplete one waits for the next payload.
/// A bad row fails the whole COPY with the line and column in the error's context.
/// With <see cref="RouteBy"/>, rows are gathered into one batch per value of a routing column (a multi-tenant COPY's
/// <c>project_id</c>) as they are parsed, so that every batch goes to one place whole and nothing splits it again.
/// </summary>
internal abstract class CopyInParser : ICopyDataSink, IDisposable
{
    // The first piece taken to finish a split row: a few rows long (a longer row doubles it until it fits).
    private const int MinCarryPiece = 1024;

    // Distinct routing values gathered at once; a further one cuts every pending batch first (bounded memory).
    private const int MaxPartitions = 64;

    private readonly Schema _schema;
    private readonly TimeZoneInfo _zone;
    private readonly int _batchRows;
    private readonly long _batchBytes;
    private readonly int _maxRowBytes;
    private readonly Queue<RecordBatch> _ready = new();
    private readonly List<Partition> _partitions = [];
    private Partition _current;
    private long _pendingBytes;

    // The bytes of a row split across CopyData messages (and only those): complete rows are parsed straight from
    // each message's body, never copied.
    private byte[] _carry = [];
    private int _carryLength;
    private CopySizeHint? _sizeHint;
    private string? _sizeKey;

    protected CopyInParser(string table, Schema schema, TimeZoneInfo zone, int batchRows, long batchBytes, int maxRowBytes)
    {
        Table = table;
        _schema = schema;
        _zone = zone;
        _batchRows = Math.Max(1, batchRows);
        _batchBytes = Math.Max(1, batchBytes);
        _maxRowBytes = maxRowBytes;
        _current = new Partition(null, NewBuilders());
        _partitions.Add(_current);
    }

    /// <summary>
    /// Gathers rows into one batch per value of column <paramref name="column"/> (compared as the field's bytes; NULL is
    /// a value of its own) instead of one batch in input order. Call before the first row.
    /// </summary>
    public void RouteBy(int column)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, _schema.FieldsList.Count);
        RouteColumn = column;
    }

    /// <summary>The column whose value picks a row's batch (<see cref="RouteBy"/>), or -1 when rows stay in input order.</summary>
    protected int RouteColumn { get; private set; } = -1;

    /// <summary>
    /// Routes the row about to be parsed by its routing field's value (<paramref name="isNull"/>: the field is NULL): its
    /// values go to that value's batch. Parsers call it before appending the row's first field when <see cref="RouteColumn"/>
    /// is set.
    /// </summary>
    protected void RouteRow(ReadOnlySpan<byte> key, bool isNull)
    {
        if (Matches(_current, key, isNull)) return;
        foreach (var p in _partitions)
        {
            if (!Matches(p, key, isNull)) continue;
            _current = p;
            return;
        }
        if (_partitions.Count >= MaxPartitions) CutAll(forget: true);
        // The first partition is made before the first row, keyless: it takes the first key seen.
        if (_partitions.Count == 1 && _partitions[0] is { Rows: 0, Claimed: false } first)
        {
            first.Claim(key, isNull);
            _current = first;
            return;
        }
        _current = new Partition(null, NewBuilders());
        _current.Claim(key, isNull);
        _partitions.Add(_current);
    }

    private static bool Matches(Partition p, ReadOnlySpan<byte> key, bool isNull) =>
        p.Claimed && (isNull ? p.Key is null : p.Key is not null && key.SequenceEqual(p.Key));

    private CopyColumnBuilder[] NewBuilders() => _schema.FieldsList.Select(f => CopyColumnBuilders.Create(f, _zone)).ToArray();

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

    /// <summary>The builders of the batch the current row goes to.</summary>
    protected CopyColumnBuilder[] Columns => _current.Columns;

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
        CutAll(forget: false);
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
        _current.Rows++;
        _current.Bytes += inputBytes;
        _pendingBytes += inputBytes;
        if (_current.Rows >= _batchRows || _current.Bytes >= _batchBytes)
        {
            CutBatch(_current);
        }
        else if (_pendingBytes >= 4 * _batchBytes)
        {
            // Many routing values, none filling its batch: cut them all rather than hold more.
            CutAll(forget: false);
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

    private void CutBatch(Partition p)
    {
        if (p.Rows == 0)
        {
            return;
        }
        if (_sizeHint is not null && RouteColumn < 0)
        {
            _sizeHint.Record(_sizeKey!, p.Rows, p.Columns.Select(c => c.ByteCount).ToArray());
        }
        var arrays = new IArrowArray[p.Columns.Length];
        for (var i = 0; i < p.Columns.Length; i++)
        {
            arrays[i] = p.Columns[i].Build();
        }
        _ready.Enqueue(new RecordBatch(_schema, arrays, p.Rows));
        _pendingBytes -= p.Bytes;
        p.Rows = 0;
        p.Bytes = 0;
    }

    /// <summary>Cuts every pending batch; <paramref name="forget"/> also drops the routing values (and their builders).</summary>
    private void CutAll(bool forget)
    {
        foreach (var p in _partitions) CutBatch(p);
        if (!forget) return;
        _partitions.Clear();
        _current = new Partition(null, NewBuilders());
        _partitions.Add(_current);
    }

    /// <summary>The batch being gathered for one routing value (the only one when rows are not routed).</summary>
    private sealed class Partition(byte[]? key, CopyColumnBuilder[] columns)
    {
        public byte[]? Key { get; private set; } = key;

        /// <summary>Whether a routing value was assigned (a keyless partition holds unrouted rows, or none yet).</summary>
        public bool Claimed { get; private set; }

        public CopyColumnBuilder[] Columns { get; } = columns;

        public int Rows { get; set; }

        public long Bytes { get; set; }

        public void Claim(ReadOnlySpan<byte> key, bool isNull)
        {
            Key = isNull ? null : key.ToArray();
            Claimed = true;
        }
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
