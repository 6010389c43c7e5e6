using System.Buffers;
using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// COPY text format: one row per line, fields split by the delimiter (tab by default), backslash escapes,
/// <c>\N</c> (or the NULL string) for NULL, and an optional <c>\.</c> end marker.
/// </summary>
internal sealed class CopyTextParser : CopyInParser
{
    private readonly byte _delimiter;
    private readonly byte[] _null;
    private readonly bool _header;
    private readonly ArrayBufferWriter<byte> _scratch = new(256);
    private readonly SearchValues<byte> _fieldStops;

    public CopyTextParser(string table, Schema schema, TimeZoneInfo zone, char delimiter, string nullString, bool header,
        int batchRows, long batchBytes, int maxRowBytes)
        : base(table, schema, zone, batchRows, batchBytes, maxRowBytes)
    {
        _delimiter = (byte)delimiter;
        _null = System.Text.Encoding.UTF8.GetBytes(nullString);
        _header = header;
        _fieldStops = SearchValues.Create([_delimiter, (byte)'\\']);
    }

    protected override int ParseAvailable(ReadOnlySpan<byte> data, bool final)
    {
        var consumed = 0;
        while (!Ended && consumed < data.Length)
        {
            var rest = data[consumed..];
            var newline = rest.IndexOf((byte)'\n');
            int lineLength;
            int advance;
            if (newline < 0)
            {
                if (!final)
                {
                    break;
                }
                lineLength = rest.Length;
                advance = rest.Length;
            }
            else
            {
                lineLength = newline;
                advance = newline + 1;
            }
            var line = rest[..lineLength];
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }
            Line++;
            consumed += advance;
            if (line.Length == 2 && line[0] == '\\' && line[1] == '.')
            {
                Ended = true;
                break;
            }
            if (Line == 1 && _header)
            {
                continue;
            }
            ParseLine(line);
            EndRow(advance);
        }
        return consumed;
    }

    private void ParseLine(ReadOnlySpan<byte> line)
    {
        if (RouteColumn >= 0)
        {
            RouteLine(line);
        }
        var pos = 0;
        for (var column = 0; column < Columns.Length; column++)
        {
            if (pos > line.Length)
            {
                throw BadFormat($"missing data for column \"{Columns[column].Field.Name}\"");
            }
            var raw = NextField(line, ref pos, out var hasEscape);
            if (raw.SequenceEqual(_null))
            {
                AppendNull(column);
                continue;
            }
            if (!hasEscape)
            {
                AppendText(column, raw);
                continue;
            }
            _scratch.ResetWrittenCount();
            Unescape(raw, _scratch);
            // An escape (\xNN, octal) can make any byte: the unescaped value is checked on its own.
            AppendText(column, _scratch.WrittenSpan, validUtf8: false);
        }
        if (pos <= line.Length)
        {
            throw BadFormat("extra data after last expected column");
        }
    }

    /// <summary>Routes the line by its routing field (a line too short for it is left to <see cref="ParseLine"/>'s error).</summary>
    private void RouteLine(ReadOnlySpan<byte> line)
    {
        var pos = 0;
        for (var column = 0; column <= RouteColumn; column++)
        {
            if (pos > line.Length)
            {
                return;
            }
            var raw = NextField(line, ref pos, out var hasEscape);
            if (column < RouteColumn)
            {
                continue;
            }
            if (raw.SequenceEqual(_null) || !hasEscape)
            {
                RouteRow(raw, isNull: raw.SequenceEqual(_null));
                return;
            }
            _scratch.ResetWrittenCount();
            Unescape(raw, _scratch);
            RouteRow(_scratch.WrittenSpan, isNull: false);
        }
    }

    /// <summary>The raw bytes of the field at <paramref name="pos"/> (escapes not yet resolved); leaves <paramref name="pos"/> past its delimiter.</summary>
    private ReadOnlySpan<byte> NextField(ReadOnlySpan<byte> line, scoped ref int pos, out bool hasEscape)
    {
        var start = pos;
        hasEscape = false;
        while (true)
        {
            var next = line[pos..].IndexOfAny(_fieldStops);
            if (next < 0)
            {
                pos = line.Length;
                break;
            }
            pos += next;
            if (line[pos] == '\\')
            {
                hasEscape = true;
                pos += 2; // the escaped byte cannot end the field
                if (pos > line.Length)
                {
                    pos = line.Length;
                    break;
                }
                continue;
            }
            break; // delimiter
        }
        var raw = line[start..pos];
        pos++; // past the delimiter (or past the end)
        return raw;
    }

    private static void Unescape(ReadOnlySpan<byte> raw, ArrayBufferWriter<byte> output)
    {
        var dest = output.GetSpan(raw.Length);
        var n = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b != '\\' || i + 1 >= raw.Length)
            {
                dest[n++] = b;
                continue;
            }
            var c = raw[++i];
            switch (c)
            {
                case (byte)'b': dest[n++] = (byte)'\b'; break;
                case (byte)'f': dest[n++] = (byte)'\f'; break;
                case (byte)'n': dest[n++] = (byte)'\n'; break;
                case (byte)'r': dest[n++] = (byte)'\r'; break;
                case (byte)'t': dest[n++] = (byte)'\t'; break;
                case (byte)'v': dest[n++] = (byte)'\v'; break;
                case >= (byte)'0' and <= (byte)'7':
                {
                    var value = c - '0';
                    for (var k = 0; k < 2 && i + 1 < raw.Length && raw[i + 1] >= '0' && raw[i + 1] <= '7'; k++)
                    {
                        value = value * 8 + (raw[++i] - '0');
                    }
                    dest[n++] = (byte)value;
                    break;
                }
                case (byte)'x':
                {
                    var value = 0;
                    var digits = 0;
                    while (digits < 2 && i + 1 < raw.Length && HexValue(raw[i + 1]) >= 0)
                    {
                        value = value * 16 + HexValue(raw[++i]);
                        digits++;
                    }
                    if (digits == 0)
                    {
                        dest[n++] = (byte)'x';
                    }
                    else
                    {
                        dest[n++] = (byte)value;
                    }
                    break;
                }
                default:
                    dest[n++] = c;
                    break;
            }
        }
        output.Advance(n);
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
