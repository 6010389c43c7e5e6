using System.Text;
using System.Text.Unicode;
using Apache.Arrow;
using Apache.Arrow.Types;
using CsCheck;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Copy;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres.Copy;

/// <summary>
/// Property tests (CsCheck): the COPY text and CSV parsers give exactly what a plain byte-at-a-time reference parse
/// of the same input gives — the rows, or the same error (SQLSTATE, message, line and column) — for random inputs
/// with quotes, escapes, NULL markers, embedded newlines, CRLF, multi-byte and invalid UTF-8, wrong field counts,
/// headers and end markers, whole, split into two CopyData messages at every position, and one byte per message;
/// and timestamps read by the fixed-position fast path exactly as the general parser reads them.
/// </summary>
public sealed class CopyParserPropertyTests
{
    private static readonly string[] Names = ["a", "b", "c"];

    private static readonly Schema Schema = new(Names.Select(n => new Field(n, StringType.Default, true)).ToList(), null);

    /// <summary>One COPY's options.</summary>
    private sealed record Options(bool Csv, byte Delimiter, byte Quote, byte Escape, string Null, bool Header, bool[] ForceNull, bool[] ForceNotNull)
    {
        public override string ToString() =>
            $"{(Csv ? "csv" : "text")} delim={(char)Delimiter} quote={(char)Quote} escape={(char)Escape} null='{Null}' header={Header} " +
            $"forceNull={string.Join("", ForceNull.Select(f => f ? 1 : 0))} forceNotNull={string.Join("", ForceNotNull.Select(f => f ? 1 : 0))}";
    }

    private static readonly Gen<Options> CsvOptions =
        Gen.Select(Gen.OneOfConst((byte)',', (byte)'|', (byte)'\t'), Gen.OneOfConst((byte)'"', (byte)'\''), Gen.Bool, Gen.OneOfConst("", "\\N", "NULL"),
                Gen.Bool, Gen.Bool.Array[3], Gen.Bool.Array[3])
            .Select((d, q, backslashEscape, n, h, fn, fnn) => new Options(true, d, q, backslashEscape ? (byte)'\\' : q, n, h, fn, fnn));

    private static readonly Gen<Options> TextOptions =
        Gen.Select(Gen.OneOfConst((byte)'\t', (byte)',', (byte)'|'), Gen.OneOfConst("\\N", "", "NULL"), Gen.Bool)
            .Select((d, n, h) => new Options(false, d, 0, 0, n, h, new bool[3], new bool[3]));

    // Pieces a field is made of: plain text, multi-byte characters, and every byte the formats give a meaning to.
    private static readonly string[] Atoms =
        ["x", "ab", "é", "€", "😀", " ", ",", "|", "\t", "\"", "'", "\\", "\n", "\r", "\r\n", "N", "\\N", "NULL", "\\.", ".", "\\x41", "\\101", "\\t", "\\\\", "\\\""];

    /// <summary>A CSV or text input: mostly well-formed rows, with a chance of every kind of damage.</summary>
    private static Gen<byte[]> Input(Options o) =>
        Gen.Select(Gen.Int[0, Atoms.Length - 1].Array[0, 4], Gen.Int[0, 14]).Select((atoms, shape) => Field(o, atoms, shape))
            .Array[2, 4].Array[0, 5]
            .Select(Gen.Int[0, 3], Gen.Int[0, 20], Gen.Byte, (rows, ending, damage, junk) => Encode(rows, ending, damage, junk));

    private static string Field(Options o, int[] atoms, int shape)
    {
        var text = string.Concat(atoms.Select(a => Atoms[a]));
        if (!o.Csv)
        {
            return shape switch
            {
                0 => o.Null,
                < 13 => text.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r").Replace(",", "\\,").Replace("\t", "\\t").Replace("|", "\\|"),
                _ => text, // unescaped: may hold delimiters, newlines, stray backslashes
            };
        }
        var q = ((char)o.Quote).ToString();
        var escaped = o.Escape == o.Quote ? text.Replace(q, q + q) : text.Replace("\\", "\\\\").Replace(q, "\\" + q);
        return shape switch
        {
            0 => o.Null,
            1 => q + o.Null + q,
            < 10 => q + escaped + q,
            10 => q + text + q, // whatever the text holds, unescaped
            11 => text + q + escaped + q, // a quoted part in the middle of a field
            12 => new string(text.Where(ch => ch is not (',' or '|' or '\t' or '\n' or '\r' or '"' or '\'')).ToArray()),
            _ => text,
        };
    }

    private static byte[] Encode(string[][] rows, int ending, int damage, byte junk)
    {
        var sb = new StringBuilder();
        for (var r = 0; r < rows.Length; r++)
        {
            var fields = rows[r];
            if (fields.Length == 3 || damage < 14)
            {
                fields = fields.Length >= 3 ? fields[..3] : [.. fields, .. Enumerable.Repeat("", 3 - fields.Length)];
            }
            sb.Append(string.Join(",", fields));
            if (r < rows.Length - 1 || ending > 0)
            {
                sb.Append(ending == 2 ? "\r\n" : "\n");
            }
        }
        var bytes = Encoding.UTF8.GetBytes(sb.ToString()).ToList();
        if (damage == 19 && bytes.Count > 0)
        {
            bytes[junk % bytes.Count] = 0xC3; // a truncated two-byte character: invalid UTF-8 somewhere
        }
        if (damage == 20)
        {
            bytes.AddRange("\\.\nafter the end\n"u8.ToArray());
        }
        return [.. bytes];
    }

    // Rows with the comma as the delimiter are rewritten for the options' delimiter.
    private static byte[] WithDelimiter(byte[] input, Options o) => o.Delimiter == ',' ? input : input.Select(b => b == ',' ? o.Delimiter : b).ToArray();

    [Fact]
    public void Csv_parse_equals_the_reference_at_every_split() =>
        CsvOptions.SelectMany(o => Input(o).Select(i => (o, WithDelimiter(i, o))))
            .Sample(t => CheckEverySplit(t.o, t.Item2), iter: 400);

    [Fact]
    public void Text_parse_equals_the_reference_at_every_split() =>
        TextOptions.SelectMany(o => Input(o).Select(i => (o, WithDelimiter(i, o))))
            .Sample(t => CheckEverySplit(t.o, t.Item2), iter: 400);

    [Fact]
    public void Arbitrary_bytes_parse_as_the_reference_does() =>
        Gen.Select(Gen.OneOf(CsvOptions, TextOptions), Gen.OneOfConst("a", ",", "\"", "'", "\\", "\n", "\r", "\t", "|", "é", "N", "x", "\\N", "\"\"").Array[0, 40])
            .Sample((o, atoms) => CheckEverySplit(o, WithDelimiter(Encoding.UTF8.GetBytes(string.Concat(atoms)), o)), iter: 400);

    [Fact]
    public void Routed_csv_parse_gathers_each_value_in_input_order() =>
        CsvOptions.SelectMany(o => Input(o).Select(i => (o, WithDelimiter(i, o))))
            .Sample(t => CheckRouted(t.o, t.Item2), iter: 400);

    [Fact]
    public void Routed_text_parse_gathers_each_value_in_input_order() =>
        TextOptions.SelectMany(o => Input(o).Select(i => (o, WithDelimiter(i, o))))
            .Sample(t => CheckRouted(t.o, t.Item2), iter: 400);

    /// <summary>
    /// Routed by column b: the same rows (or the same error) as the reference, every batch holding one value of b, and
    /// the rows of each value in input order — whole and split at every position.
    /// </summary>
    private static void CheckRouted(Options o, byte[] input)
    {
        var expected = o.Csv ? ReferenceCsv(o, input) : ReferenceText(o, input);
        var context = $"{o} input \"{Encoding.UTF8.GetString(input).Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t")}\"";
        for (var split = 0; split <= input.Length; split++)
        {
            var got = GroupedByB(Fast(o, input, [split, input.Length - split], routeBy: 1));
            var want = GroupedByB(expected);
            Assert.True(want == got, $"split at {split}: {context}\nexpected {want}\ngot {got}");
        }
    }

    /// <summary>Rows grouped by the value of b (groups in ordinal order, each group's rows in their order); errors as they are.</summary>
    private static Outcome GroupedByB(Outcome rows)
    {
        if (rows.Value.Length == 0 || rows.Value.StartsWith("ERROR ", StringComparison.Ordinal)) return rows;
        var lines = rows.Value.Split('\u001E');
        return new Outcome(string.Join("\u001E", lines.OrderBy(l => l.Split('¦')[1], StringComparer.Ordinal)));
    }

    private static readonly TimeZoneInfo Plus3 = TimeZoneInfo.CreateCustomTimeZone("plus3", TimeSpan.FromHours(3), "plus3", "plus3");

    private static Gen<string> Number(int min, int max) =>
        Gen.Select(Gen.Int[min, max], Gen.Int[1, 4]).Select((v, width) => v.ToString(new string('0', width), System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Timestamps_read_at_fixed_positions_equal_the_general_parse() =>
        Gen.Select(Number(0, 10000), Number(0, 13), Number(0, 32), Gen.OneOfConst(" ", "T", "t", "x", "  "), Number(0, 25), Number(0, 61), Number(0, 61))
            .Select(Gen.OneOfConst("", ".", ".5", ".123456", ".1234565", ".12345678", ".0"),
                Gen.OneOfConst("", "Z", "z", "+00", "-00", "+05:30", "-11:45", "+0530", "+16", "+15:60", " +00", " UTC", " BC", "+5", "+05:3", "x", " "),
                Gen.Bool, Gen.Bool,
                (date, fraction, offset, withZone, utc) =>
                {
                    var (y, mo, d, sep, h, mi, se) = date;
                    return ($"{y}-{mo}-{d}{sep}{h}:{mi}:{se}{fraction}{offset}", withZone, utc);
                })
            .Sample(t =>
            {
                var text = Encoding.ASCII.GetBytes(t.Item1);
                var zone = t.utc ? TimeZoneInfo.Utc : Plus3;
                var fastOk = TimeFusion.Silo.Protocol.Postgres.Types.PgDateTimeParser.TryParseTimestamp(text, t.withZone, zone, out var fast);
                var generalOk = TimeFusion.Silo.Protocol.Postgres.Types.PgDateTimeParser.TryParseTimestampGeneral(text, t.withZone, zone, out var general);
                Assert.True(fastOk == generalOk && (!fastOk || fast == general), $"{t.Item1} withZone={t.withZone} utc={t.utc}: {fastOk}/{fast} vs {generalOk}/{general}");
            }, iter: 3000);

    private static void CheckEverySplit(Options o, byte[] input)
    {
        var expected = o.Csv ? ReferenceCsv(o, input) : ReferenceText(o, input);
        var context = $"{o} input \"{Encoding.UTF8.GetString(input).Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t")}\"";
        Assert.True(expected == Fast(o, input, [input.Length]), $"whole: {context}\nexpected {expected}\ngot {Fast(o, input, [input.Length])}");
        for (var split = 0; split <= input.Length; split++)
        {
            var got = Fast(o, input, [split, input.Length - split]);
            Assert.True(expected == got, $"split at {split}: {context}\nexpected {expected}\ngot {got}");
        }
        var bytewise = Fast(o, input, Enumerable.Repeat(1, input.Length).ToArray());
        Assert.True(expected == bytewise, $"byte by byte: {context}\nexpected {expected}\ngot {bytewise}");
    }

    /// <summary>The rows (values joined, NULL as ∅) or the error, as one comparable string.</summary>
    private readonly record struct Outcome(string Value);

    // Rows joined by the record separator (no generated value holds it: values may hold newlines).
    private static Outcome Rows(List<string?[]> rows) => new(string.Join("\u001E", rows.Select(r => string.Join("¦", r.Select(v => v ?? "∅")))));

    private static Outcome Error(string sqlState, string message, string where) => new($"ERROR {sqlState} {message} @ {where}");

    private static Outcome Fast(Options o, byte[] input, int[] pieces, int routeBy = -1)
    {
        CopyInParser parser = o.Csv
            ? new CopyCsvParser("t", Schema, TimeZoneInfo.Utc, (char)o.Delimiter, (char)o.Quote, (char)o.Escape, o.Null, o.Header,
                Names.Where((_, i) => o.ForceNotNull[i]).ToList(), Names.Where((_, i) => o.ForceNull[i]).ToList(), 2, 1 << 20, 1 << 20)
            : new CopyTextParser("t", Schema, TimeZoneInfo.Utc, (char)o.Delimiter, o.Null, o.Header, 2, 1 << 20, 1 << 20);
        if (routeBy >= 0)
        {
            parser.RouteBy(routeBy);
        }
        var rows = new List<string?[]>();
        try
        {
            var offset = 0;
            foreach (var piece in pieces)
            {
                parser.Feed(input.AsSpan(offset, piece));
                offset += piece;
                Drain(parser, rows, routeBy);
            }
            parser.Finish();
            Drain(parser, rows, routeBy);
        }
        catch (PostgresErrorException e)
        {
            return Error(e.SqlState, e.Message, e.Where ?? "");
        }
        Assert.Equal(rows.Count, parser.Rows);
        return Rows(rows);
    }

    private static void Drain(CopyInParser parser, List<string?[]> rows, int routeBy = -1)
    {
        while (parser.TryTake(out var batch))
        {
            Assert.True(batch.Length <= 2);
            if (routeBy >= 0)
            {
                var key = (StringArray)batch.Column(routeBy);
                Assert.All(Enumerable.Range(0, batch.Length), r => Assert.Equal(key.GetString(0), key.GetString(r)));
            }
            for (var r = 0; r < batch.Length; r++)
            {
                rows.Add(Enumerable.Range(0, batch.ColumnCount).Select(c => ((StringArray)batch.Column(c)).GetString(r)).ToArray());
            }
            batch.Dispose();
        }
    }

    // ---- the reference: one byte at a time, as the formats are specified, no cleverness ----

    private static Outcome ReferenceCsv(Options o, byte[] input)
    {
        var rows = new List<string?[]>();
        long line = 0;
        var pos = 0;
        while (pos < input.Length)
        {
            // The record runs to the first newline outside quotes.
            var inQuote = false;
            var newlines = 0;
            var end = pos;
            while (end < input.Length && (inQuote || input[end] != '\n'))
            {
                var b = input[end];
                if (inQuote && b == o.Escape && end + 1 < input.Length && (input[end + 1] == o.Quote || input[end + 1] == o.Escape))
                {
                    end += 2;
                    continue;
                }
                if (b == o.Quote)
                {
                    inQuote = !inQuote;
                }
                else if (b == '\n')
                {
                    newlines++;
                }
                end++;
            }
            line++;
            if (inQuote)
            {
                return Error(SqlState.BadCopyFileFormat, "unterminated CSV quoted field", $"COPY t, line {line}");
            }
            var record = input[pos..end];
            pos = Math.Min(end + 1, input.Length);
            if (record.Length > 0 && record[^1] == '\r')
            {
                record = record[..^1];
            }
            if (record is [(byte)'\\', (byte)'.'])
            {
                break;
            }
            if (line == 1 && o.Header)
            {
                line += newlines;
                continue;
            }
            var fields = new List<(List<byte> Bytes, bool Quoted)>();
            var p = 0;
            while (true)
            {
                var value = new List<byte>();
                var quoted = false;
                while (p < record.Length && record[p] != o.Delimiter)
                {
                    if (record[p] != o.Quote)
                    {
                        value.Add(record[p++]);
                        continue;
                    }
                    quoted = true;
                    p++;
                    while (true)
                    {
                        if (p >= record.Length)
                        {
                            return Error(SqlState.BadCopyFileFormat, "unterminated CSV quoted field", $"COPY t, line {line}");
                        }
                        var b = record[p];
                        if (b == o.Escape && p + 1 < record.Length && (record[p + 1] == o.Quote || record[p + 1] == o.Escape))
                        {
                            value.Add(record[p + 1]);
                            p += 2;
                            continue;
                        }
                        p++;
                        if (b == o.Quote)
                        {
                            break;
                        }
                        value.Add(b);
                    }
                }
                fields.Add((value, quoted));
                if (p >= record.Length)
                {
                    break;
                }
                p++; // the delimiter
            }
            var row = new string?[Names.Length];
            var nul = Encoding.UTF8.GetBytes(o.Null);
            for (var c = 0; c < Names.Length; c++)
            {
                if (c >= fields.Count)
                {
                    return Error(SqlState.BadCopyFileFormat, $"missing data for column \"{Names[c]}\"", $"COPY t, line {line}");
                }
                var (bytes, quoted) = fields[c];
                var isNull = bytes.SequenceEqual(nul) && (quoted ? o.ForceNull[c] : !o.ForceNotNull[c]);
                if (!isNull && Invalid(bytes, line, c) is { } error)
                {
                    return error;
                }
                row[c] = isNull ? null : Encoding.UTF8.GetString([.. bytes]);
            }
            if (fields.Count > Names.Length)
            {
                return Error(SqlState.BadCopyFileFormat, "extra data after last expected column", $"COPY t, line {line}");
            }
            rows.Add(row);
            line += newlines;
        }
        return Rows(rows);
    }

    private static Outcome ReferenceText(Options o, byte[] input)
    {
        var rows = new List<string?[]>();
        long line = 0;
        var pos = 0;
        var nul = Encoding.UTF8.GetBytes(o.Null);
        while (pos < input.Length)
        {
            var end = pos;
            while (end < input.Length && input[end] != '\n')
            {
                end++;
            }
            var text = input[pos..end];
            pos = Math.Min(end + 1, input.Length);
            if (text.Length > 0 && text[^1] == '\r')
            {
                text = text[..^1];
            }
            line++;
            if (text is [(byte)'\\', (byte)'.'])
            {
                break;
            }
            if (line == 1 && o.Header)
            {
                continue;
            }
            // Fields split at delimiters that no backslash escapes.
            var fields = new List<byte[]>();
            var start = 0;
            var i = 0;
            while (true)
            {
                while (i < text.Length && text[i] != o.Delimiter)
                {
                    i += text[i] == '\\' ? 2 : 1;
                }
                i = Math.Min(i, text.Length);
                fields.Add(text[start..i]);
                if (i >= text.Length)
                {
                    break;
                }
                start = ++i;
            }
            var row = new string?[Names.Length];
            for (var c = 0; c < Names.Length; c++)
            {
                if (c >= fields.Count)
                {
                    return Error(SqlState.BadCopyFileFormat, $"missing data for column \"{Names[c]}\"", $"COPY t, line {line}");
                }
                if (fields[c].AsSpan().SequenceEqual(nul))
                {
                    continue;
                }
                var value = Unescape(fields[c]);
                if (Invalid(value, line, c) is { } error)
                {
                    return error;
                }
                row[c] = Encoding.UTF8.GetString([.. value]);
            }
            if (fields.Count > Names.Length)
            {
                return Error(SqlState.BadCopyFileFormat, "extra data after last expected column", $"COPY t, line {line}");
            }
            rows.Add(row);
        }
        return Rows(rows);
    }

    private static List<byte> Unescape(byte[] raw)
    {
        var value = new List<byte>();
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '\\' || i == raw.Length - 1)
            {
                value.Add(raw[i]);
                continue;
            }
            var c = (char)raw[++i];
            var digits = "";
            if (c is >= '0' and <= '7')
            {
                digits += c;
                while (digits.Length < 3 && i + 1 < raw.Length && raw[i + 1] is >= (byte)'0' and <= (byte)'7')
                {
                    digits += (char)raw[++i];
                }
                value.Add((byte)Convert.ToInt32(digits, 8));
                continue;
            }
            if (c == 'x')
            {
                while (digits.Length < 2 && i + 1 < raw.Length && Uri.IsHexDigit((char)raw[i + 1]))
                {
                    digits += (char)raw[++i];
                }
                value.Add(digits.Length == 0 ? (byte)'x' : Convert.ToByte(digits, 16));
                continue;
            }
            value.Add(c switch { 'b' => (byte)'\b', 'f' => (byte)'\f', 'n' => (byte)'\n', 'r' => (byte)'\r', 't' => (byte)'\t', 'v' => (byte)'\v', _ => (byte)c });
        }
        return value;
    }

    private static Outcome? Invalid(List<byte> value, long line, int column)
    {
        if (Utf8.IsValid(value.ToArray()))
        {
            return null;
        }
        var shown = Encoding.UTF8.GetString(value.Take(100).ToArray());
        return Error(SqlState.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"", $"COPY t, line {line}, column {Names[column]}: \"{shown}\"");
    }
}
