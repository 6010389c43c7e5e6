using System.Buffers;
using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// COPY CSV format: fields split by the delimiter (comma by default), quoted with the quote character,
/// quotes inside doubled (or preceded by the escape character), line breaks allowed inside quotes. An
/// unquoted field equal to the NULL string (empty by default) is NULL; a quoted one never is, unless the
/// column is in FORCE_NULL. FORCE_NOT_NULL columns never read NULL.
/// </summary>
internal sealed class CopyCsvParser : CopyInParser
{
    private readonly byte _delimiter;
    private readonly byte _quote;
    private readonly byte _escape;
    private readonly byte[] _null;
    private readonly bool _header;
    private readonly bool[] _forceNotNull;
    private readonly bool[] _forceNull;
    // Unescaped field bytes (a field with an escaped quote): never longer than the rest of its record, so sized for that
    // once per field and then written without checks.
    private byte[] _scratch = new byte[256];
    private readonly SearchValues<byte> _recordStops;

    public CopyCsvParser(string table, Schema schema, TimeZoneInfo zone, char delimiter, char quote, char escape, string nullString,
        bool header, IReadOnlyCollection<string> forceNotNull, IReadOnlyCollection<string> forceNull,
        int batchRows, long batchBytes, int maxRowBytes)
        : base(table, schema, zone, batchRows, batchBytes, maxRowBytes)
    {
        _delimiter = (byte)delimiter;
        _quote = (byte)quote;
        _escape = (byte)escape;
        _null = System.Text.Encoding.UTF8.GetBytes(nullString);
        _header = header;
        _forceNotNull = Flags(schema, forceNotNull, "FORCE_NOT_NULL");
        _forceNull = Flags(schema, forceNull, "FORCE_NULL");
        _recordStops = SearchValues.Create([(byte)'\n', _quote]);
    }

    private static bool[] Flags(Schema schema, IReadOnlyCollection<string> names, string option)
    {
        var flags = new bool[schema.FieldsList.Count];
        foreach (var name in names)
        {
            var index = schema.FieldsList.ToList().FindIndex(f => f.Name == name);
            if (index < 0)
            {
                throw new PostgresErrorException(SqlState.InvalidParameterValue, $"{option} column \"{name}\" is not referenced by COPY");
            }
            flags[index] = true;
        }
        return flags;
    }

    protected override int ParseAvailable(ReadOnlySpan<byte> data, bool final)
    {
        var consumed = 0;
        while (!Ended && consumed < data.Length)
        {
            var rest = data[consumed..];
            var end = FindRecordEnd(rest, final, out var physicalLines);
            int recordLength;
            int advance;
            if (end < 0)
            {
                if (!final)
                {
                    break;
                }
                if (end == -2)
                {
                    Line++;
                    throw BadFormat("unterminated CSV quoted field");
                }
                recordLength = rest.Length;
                advance = rest.Length;
            }
            else
            {
                recordLength = end;
                advance = end + 1;
            }
            var record = rest[..recordLength];
            if (record.Length > 0 && record[^1] == '\r')
            {
                record = record[..^1];
            }
            Line++;
            consumed += advance;
            if (record.Length == 2 && record[0] == '\\' && record[1] == '.')
            {
                Ended = true;
                break;
            }
            if (Line == 1 && _header)
            {
                Line += physicalLines;
                continue;
            }
            ParseRecord(record);
            Line += physicalLines;
            EndRow(advance);
        }
        return consumed;
    }

    /// <summary>
    /// Index of the newline ending the first record, -1 when the data ends before it (outside quotes),
    /// -2 when it ends inside a quoted field (or, before the end of input, on a quote that may be the first of a pair).
    /// </summary>
    private int FindRecordEnd(ReadOnlySpan<byte> data, bool final, out int embeddedNewlines)
    {
        embeddedNewlines = 0;
        if (_escape == _quote)
        {
            // Every quote flips in/out of a quoted part (a doubled quote flips twice), so the first newline ends the
            // record when the line before it holds an even number of quotes: two vectorized passes decide most lines.
            var newline = data.IndexOf((byte)'\n');
            if (newline >= 0 && (data[..newline].Count(_quote) & 1) == 0)
            {
                return newline;
            }
        }
        var inQuote = false;
        var pos = 0;
        while (pos < data.Length)
        {
            var next = inQuote ? data[pos..].IndexOfAny(_quote, _escape, (byte)'\n') : data[pos..].IndexOfAny(_recordStops);
            if (next < 0)
            {
                return inQuote ? -2 : -1;
            }
            pos += next;
            var b = data[pos];
            if (inQuote)
            {
                if (b == '\n')
                {
                    embeddedNewlines++;
                    pos++;
                    continue;
                }
                if (b == _escape && _escape != _quote)
                {
                    // An escape character only escapes a following quote or escape character.
                    if (pos + 1 < data.Length && (data[pos + 1] == _quote || data[pos + 1] == _escape))
                    {
                        pos += 2;
                        continue;
                    }
                    if (pos + 1 >= data.Length)
                    {
                        return -2;
                    }
                    if (b != _quote)
                    {
                        pos++;
                        continue;
                    }
                }
                if (b == _quote)
                {
                    if (_escape == _quote && pos + 1 < data.Length && data[pos + 1] == _quote)
                    {
                        pos += 2;
                        continue;
                    }
                    if (_escape == _quote && pos + 1 >= data.Length && !final)
                    {
                        return -2; // could be a doubled quote split across payloads
                    }
                    inQuote = false;
                    pos++;
                    continue;
                }
                pos++;
                continue;
            }
            if (b == '\n')
            {
                return pos;
            }
            inQuote = true;
            pos++;
        }
        return inQuote ? -2 : -1;
    }

    private void ParseRecord(ReadOnlySpan<byte> record)
    {
        if (RouteColumn >= 0)
        {
            RouteRecord(record);
        }
        var pos = 0;
        for (var column = 0; column < Columns.Length; column++)
        {
            if (pos > record.Length)
            {
                throw BadFormat($"missing data for column \"{Columns[column].Field.Name}\"");
            }
            ReadOnlySpan<byte> value;
            bool quoted;
            if (!TryFastField(record, ref pos, out value, out quoted))
            {
                value = SlowField(record, ref pos, out quoted);
            }
            pos++; // past the delimiter (or the end)
            if (IsNull(column, value, quoted))
            {
                AppendNull(column);
            }
            else
            {
                AppendText(column, value);
            }
        }
        if (pos <= record.Length)
        {
            throw BadFormat("extra data after last expected column");
        }
    }

    /// <summary>Routes the record by its routing field (a record too short for it is left to <see cref="ParseRecord"/>'s error).</summary>
    private void RouteRecord(ReadOnlySpan<byte> record)
    {
        var pos = 0;
        for (var column = 0; column <= RouteColumn; column++)
        {
            if (pos > record.Length)
            {
                return;
            }
            ReadOnlySpan<byte> value;
            bool quoted;
            if (!TryFastField(record, ref pos, out value, out quoted))
            {
                try
                {
                    value = SlowField(record, ref pos, out quoted);
                }
                catch (PostgresErrorException)
                {
                    return; // a malformed field: ParseRecord reports it (or an earlier one) as an unrouted parse would
                }
            }
            pos++;
            if (column == RouteColumn)
            {
                RouteRow(value, IsNull(column, value, quoted));
            }
        }
    }

    private bool IsNull(int column, ReadOnlySpan<byte> value, bool quoted) =>
        quoted ? _forceNull[column] && value.SequenceEqual(_null) : !_forceNotNull[column] && value.SequenceEqual(_null);

    /// <summary>
    /// The common shapes, sliced straight from the record: an unquoted field without quotes, or one quoted part with
    /// no quote or escape inside, followed by the delimiter or the end. Anything else is left to <see cref="SlowField"/>.
    /// </summary>
    private bool TryFastField(ReadOnlySpan<byte> record, scoped ref int pos, out ReadOnlySpan<byte> value, out bool quoted)
    {
        var start = pos;
        if (start < record.Length && record[start] == _quote)
        {
            quoted = true;
            var inside = record[(start + 1)..];
            var close = _escape == _quote ? inside.IndexOf(_quote) : inside.IndexOfAny(_quote, _escape);
            if (close >= 0 && inside[close] == _quote)
            {
                var after = start + 1 + close + 1;
                // A doubled quote (when the quote is its own escape) is an escaped quote, not the end.
                if (after == record.Length || record[after] == _delimiter)
                {
                    value = inside[..close];
                    pos = after;
                    return true;
                }
            }
            value = default;
            return false;
        }
        quoted = false;
        var stop = record[start..].IndexOfAny(_delimiter, _quote);
        if (stop < 0)
        {
            value = record[start..];
            pos = record.Length;
            return true;
        }
        if (record[start + stop] == _delimiter)
        {
            value = record.Slice(start, stop);
            pos = start + stop;
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>
    /// Any field: a sequence of unquoted and quoted parts up to an unquoted delimiter, unescaped into scratch space
    /// (an escape character escapes only a following quote or escape character). Leaves <paramref name="pos"/> on the
    /// delimiter or the end.
    /// </summary>
    private ReadOnlySpan<byte> SlowField(ReadOnlySpan<byte> record, scoped ref int pos, out bool quoted)
    {
        quoted = false;
        var fieldStart = pos;
        if (_scratch.Length < record.Length - pos)
        {
            _scratch = new byte[Math.Max(record.Length - pos, 2 * _scratch.Length)];
        }
        var written = 0;
        while (pos < record.Length)
        {
            var next = record[pos..].IndexOfAny(_delimiter, _quote);
            if (next < 0)
            {
                record[pos..].CopyTo(_scratch.AsSpan(written));
                written += record.Length - pos;
                pos = record.Length;
                break;
            }
            record.Slice(pos, next).CopyTo(_scratch.AsSpan(written));
            written += next;
            pos += next;
            if (record[pos] == _delimiter)
            {
                break;
            }
            quoted = true;
            pos++;
            while (true)
            {
                var special = _escape == _quote ? record[pos..].IndexOf(_quote) : record[pos..].IndexOfAny(_quote, _escape);
                if (special < 0)
                {
                    throw BadFormat("unterminated CSV quoted field");
                }
                record.Slice(pos, special).CopyTo(_scratch.AsSpan(written));
                written += special;
                pos += special;
                var b = record[pos];
                if (b == _escape && pos + 1 < record.Length && (record[pos + 1] == _quote || record[pos + 1] == _escape))
                {
                    _scratch[written++] = record[pos + 1];
                    pos += 2;
                    continue;
                }
                if (b == _quote)
                {
                    pos++;
                    break;
                }
                // A lone escape character is data.
                _scratch[written++] = record[pos];
                pos++;
            }
        }
        return quoted ? _scratch.AsSpan(0, written) : record[fieldStart..pos];
    }
}
