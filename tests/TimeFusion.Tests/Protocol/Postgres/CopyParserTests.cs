using System.Buffers.Binary;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Copy;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>COPY FROM STDIN parsers fed whole, byte by byte and in random pieces: the same rows every time.</summary>
public sealed class CopyParserTests
{
    private static readonly Schema Schema = new(
    [
        new Field("id", Int32Type.Default, false),
        new Field("s", StringType.Default, true),
        new Field("tags", new ListType(new Field("item", StringType.Default, true)), true),
        new Field("at", new TimestampType(TimeUnit.Microsecond, "UTC"), true),
        PgArrowMetadata.JsonField("doc"),
    ], null);

    private static CopyInParser Text(string nullString = "\\N", bool header = false, int batchRows = 3) =>
        new CopyTextParser("t", Schema, TimeZoneInfo.Utc, '\t', nullString, header, batchRows, 1 << 20, 1 << 20);

    private static CopyInParser Csv(bool header = false, string[]? forceNull = null) =>
        new CopyCsvParser("t", Schema, TimeZoneInfo.Utc, ',', '"', '"', "", header, [], forceNull ?? [], 3, 1 << 20, 1 << 20);

    private static CopyInParser Binary() => new CopyBinaryParser("t", Schema, TimeZoneInfo.Utc, 3, 1 << 20, 1 << 20);

    private const string TextInput =
        "1\tplain\t{a,b}\t2024-01-01 00:00:00+00\t{\"k\":1}\n" +
        "2\ttab\\there\\\\ and \\x41\\101\t\\N\t\\N\t\\N\r\n" +
        "3\t\t{}\t2024-01-01T01:00:00Z\t[1,2]\n" +
        "4\tlast line without newline\t{\"x y\",NULL}\t2024-06-01 12:00:00.25+02:00\tnull";

    private static readonly string[] ExpectedRows =
    [
        "1|plain|[a,b]|1704067200000000|{\"k\":1}",
        "2|tab\there\\ and AA|NULL|NULL|NULL",
        "3||[]|1704070800000000|[1,2]",
        "4|last line without newline|[x y,NULL]|1717236000250000|null",
    ];

    [Fact]
    public void Text_format_parses_the_same_in_any_pieces()
    {
        var bytes = Encoding.UTF8.GetBytes(TextInput);
        Assert.Equal(ExpectedRows, ParseInPieces(() => Text(), bytes, whole: true));
        Assert.Equal(ExpectedRows, ParseInPieces(() => Text(), bytes, pieceSize: 1));
        Assert.Equal(ExpectedRows, ParseInPieces(() => Text(), bytes, random: new Random(7)));
    }

    [Fact]
    public void Text_format_stops_at_the_end_marker_and_skips_a_header()
    {
        var bytes = Encoding.UTF8.GetBytes("id\ts\ttags\tat\tdoc\n" + TextInput[..TextInput.IndexOf("3\t", StringComparison.Ordinal)] + "\\.\ngarbage after the end\n");
        Assert.Equal(ExpectedRows[..2], ParseInPieces(() => Text(header: true), bytes, pieceSize: 5));
    }

    [Fact]
    public void Csv_format_parses_quotes_and_embedded_newlines_in_any_pieces()
    {
        const string csv =
            "id,s,tags,at,doc\n" +
            "1,plain,\"{a,b}\",2024-01-01 00:00:00+00,\"{\"\"k\"\":1}\"\n" +
            "2,\"tab\there\\ and AA\",,,\n" +
            "3,\"\",{},2024-01-01T01:00:00Z,\"[1,2]\"\n" +
            "4,last line without newline,\"{\"\"x y\"\",NULL}\",2024-06-01 12:00:00.25+02:00,null";
        var bytes = Encoding.UTF8.GetBytes(csv);
        Assert.Equal(ExpectedRows, ParseInPieces(() => Csv(header: true), bytes, whole: true));
        Assert.Equal(ExpectedRows, ParseInPieces(() => Csv(header: true), bytes, pieceSize: 1));
        Assert.Equal(ExpectedRows, ParseInPieces(() => Csv(header: true), bytes, random: new Random(11)));
        var multiline = Encoding.UTF8.GetBytes("5,\"line one\nline two\r\nline three\",,,\n");
        Assert.Equal(["5|line one\nline two\r\nline three|NULL|NULL|NULL"], ParseInPieces(() => Csv(), multiline, pieceSize: 3));
    }

    [Fact]
    public void Binary_format_parses_the_same_in_any_pieces()
    {
        var bytes = BinaryInput();
        var expected = new[] { "7|seven|[a,NULL]|946684800000001|{}", "8|NULL|NULL|NULL|NULL" };
        Assert.Equal(expected, ParseInPieces(Binary, bytes, whole: true));
        Assert.Equal(expected, ParseInPieces(Binary, bytes, pieceSize: 1));
    }

    [Fact]
    public void Binary_rows_routed_by_a_column_come_in_one_batch_per_value()
    {
        var bytes = BinaryInput();
        var parser = Binary();
        parser.RouteBy(1); // s: 'seven', then NULL — two values, so two batches
        parser.Feed(bytes);
        parser.Finish();
        var batches = new List<RecordBatch>();
        while (parser.TryTake(out var b))
        {
            batches.Add(b);
        }
        Assert.Equal([1, 1], batches.Select(b => b.Length));
        Assert.Equal("seven", ((StringArray)batches[0].Column(1)).GetString(0));
        Assert.True(batches[1].Column(1).IsNull(0));
        Assert.Equal([7, 8], batches.Select(b => ((Int32Array)b.Column(0)).GetValue(0)!.Value));
        foreach (var b in batches)
        {
            b.Dispose();
        }
    }

    [Theory]
    [InlineData("1\tonly two\n", SqlState.BadCopyFileFormat, "missing data for column \"tags\"")]
    [InlineData("1\ta\t{}\t\\N\t\\N\textra\n", SqlState.BadCopyFileFormat, "extra data after last expected column")]
    [InlineData("x\ta\t{}\t\\N\t\\N\n", SqlState.InvalidTextRepresentation, "invalid input syntax for type integer")]
    [InlineData("99999999999\ta\t{}\t\\N\t\\N\n", SqlState.NumericValueOutOfRange, "out of range")]
    [InlineData("\\N\ta\t{}\t\\N\t\\N\n", SqlState.NotNullViolation, "violates not-null constraint")]
    [InlineData("1\ta\t{}\tnot a time\t\\N\n", SqlState.InvalidTextRepresentation, "timestamp with time zone")]
    [InlineData("1\ta\t{}\t\\N\t{broken json\n", SqlState.InvalidTextRepresentation, "json")]
    [InlineData("1\ta\tnot an array\t\\N\t\\N\n", SqlState.InvalidTextRepresentation, "malformed array literal")]
    [InlineData("1\t\\xff\t{}\t\\N\t\\N\n", SqlState.CharacterNotInRepertoire, "UTF8")]
    public void Bad_text_rows_fail_with_sqlstate_and_line(string input, string sqlState, string message)
    {
        var parser = Text();
        var e = Assert.Throws<PostgresErrorException>(() =>
        {
            parser.Feed(Encoding.UTF8.GetBytes("1\tfine\t{}\t\\N\t\\N\n" + input));
            parser.Finish();
        });
        Assert.Equal(sqlState, e.SqlState);
        Assert.Contains(message, e.Message);
        Assert.Contains("line 2", e.Where);
    }

    [Fact]
    public void Bad_csv_and_binary_input_fails_cleanly()
    {
        var csv = Csv();
        var e = Assert.Throws<PostgresErrorException>(() =>
        {
            csv.Feed(Encoding.UTF8.GetBytes("1,\"never closed,,,\n"));
            csv.Finish();
        });
        Assert.Equal(SqlState.BadCopyFileFormat, e.SqlState);

        e = Assert.Throws<PostgresErrorException>(() => Binary().Feed(Encoding.ASCII.GetBytes("NOTPGCOPY-header-bytes")));
        Assert.Equal(SqlState.BadCopyFileFormat, e.SqlState);

        var truncated = BinaryInput()[..30];
        var parser = Binary();
        parser.Feed(truncated);
        e = Assert.Throws<PostgresErrorException>(parser.Finish);
        Assert.Equal(SqlState.BadCopyFileFormat, e.SqlState);

        var hostile = BinaryInput();
        BinaryPrimitives.WriteInt32BigEndian(hostile.AsSpan(25), int.MaxValue); // the first field length (after 23 header bytes and the field count)
        parser = Binary();
        parser.Feed(hostile);
        e = Assert.Throws<PostgresErrorException>(parser.Finish);
        Assert.Equal(SqlState.BadCopyFileFormat, e.SqlState);
    }

    [Fact]
    public void Rows_longer_than_the_limit_are_refused()
    {
        var parser = new CopyTextParser("t", Schema, TimeZoneInfo.Utc, '\t', "\\N", false, 10, 1 << 20, maxRowBytes: 1000);
        var e = Assert.Throws<PostgresErrorException>(() => parser.Feed(new byte[2000]));
        Assert.Equal(SqlState.ProgramLimitExceeded, e.SqlState);
    }

    private static byte[] BinaryInput()
    {
        var ms = new MemoryStream();
        ms.Write([(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0]);
        ms.Write(RawPgClient.BigEndian(0));
        ms.Write(RawPgClient.BigEndian(4));
        ms.Write([9, 9, 9, 9]); // header extension, skipped
        ms.Write(RawPgClient.BigEndian16(5));
        Field(ms, RawPgClient.BigEndian(7));
        Field(ms, "seven"u8.ToArray());
        // text[] {a,NULL}: ndim 1, has nulls, element oid 25, dim 2, lbound 1, then elements
        Field(ms, RawPgClient.Concat(RawPgClient.BigEndian(1), RawPgClient.BigEndian(1), RawPgClient.BigEndian(25), RawPgClient.BigEndian(2), RawPgClient.BigEndian(1),
            RawPgClient.BigEndian(1), "a"u8.ToArray(), RawPgClient.BigEndian(-1)));
        var micros = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(micros, 1); // 2000-01-01 00:00:00.000001
        Field(ms, micros);
        Field(ms, [1, (byte)'{', (byte)'}']); // jsonb version 1
        ms.Write(RawPgClient.BigEndian16(5));
        Field(ms, RawPgClient.BigEndian(8));
        for (var i = 0; i < 4; i++)
        {
            ms.Write(RawPgClient.BigEndian(-1));
        }
        ms.Write(RawPgClient.BigEndian16(-1));
        return ms.ToArray();
    }

    private static void Field(MemoryStream ms, byte[] value)
    {
        ms.Write(RawPgClient.BigEndian(value.Length));
        ms.Write(value);
    }

    private static List<string> ParseInPieces(Func<CopyInParser> create, byte[] input, bool whole = false, int pieceSize = 0, Random? random = null)
    {
        var parser = create();
        var batches = new List<RecordBatch>();
        var offset = 0;
        while (offset < input.Length)
        {
            var size = whole ? input.Length : random is not null ? random.Next(1, 17) : pieceSize;
            size = Math.Min(size, input.Length - offset);
            parser.Feed(input.AsSpan(offset, size));
            offset += size;
            while (parser.TryTake(out var b))
            {
                batches.Add(b);
            }
        }
        parser.Finish();
        while (parser.TryTake(out var b))
        {
            batches.Add(b);
        }
        var rows = new List<string>();
        foreach (var batch in batches)
        {
            Assert.True(batch.Length <= 3);
            for (var r = 0; r < batch.Length; r++)
            {
                rows.Add(string.Join('|', Enumerable.Range(0, batch.ColumnCount).Select(c => Show(batch.Column(c), r))));
            }
            batch.Dispose();
        }
        Assert.Equal(rows.Count, parser.Rows);
        return rows;
    }

    private static string Show(IArrowArray array, int row)
    {
        if (array.IsNull(row))
        {
            return "NULL";
        }
        return array switch
        {
            Int32Array a => a.Values[row].ToString(),
            StringArray s => s.GetString(row),
            TimestampArray t => t.Values[row].ToString(),
            ListArray l => "[" + string.Join(',', Enumerable.Range(l.ValueOffsets[row], l.ValueOffsets[row + 1] - l.ValueOffsets[row]).Select(i => Show(l.Values, i))) + "]",
            _ => throw new NotSupportedException(array.GetType().Name),
        };
    }
}
