using System.Text;
using Apache.Arrow;
using CsCheck;
using TimeFusion.Silo.Backend;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Grains;
using TimeFusion.Tables;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// Bind's values with text kept as UTF-8 (<see cref="BoundParameters"/>): read as CLR values they are what
/// <c>ParameterDecoder</c> gives, bad text fails at Bind as before, and a planned INSERT builds from the bytes the same
/// Arrow columns it builds from the decoded strings.
/// </summary>
public sealed class BoundParametersTests
{
    private static readonly TableDefinition Table = new("t",
    [
        new ColumnDefinition("timestamp", ColumnType.TimestampUs, false),
        new ColumnDefinition("id", ColumnType.Utf8, false),
        new ColumnDefinition("body", ColumnType.Utf8),
        new ColumnDefinition("attributes", ColumnType.Json),
        new ColumnDefinition("n", ColumnType.Int64),
    ]);

    private static PreparedInsertPlan Plan(int rows) =>
        PreparedInsertPlan.TryCreate("INSERT INTO t (id, body, attributes, n) VALUES " +
                                     string.Join(", ", Enumerable.Range(0, rows).Select(r => $"(${r * 4 + 1}, ${r * 4 + 2}, ${r * 4 + 3}, ${r * 4 + 4})")),
            name => name == "t" ? Table : null)!;

    /// <summary>A Bind body of the values (null = SQL NULL), each in binary format, typed by <paramref name="types"/>.</summary>
    private static BoundParameters Bind(byte[]?[] values, PgType[] types)
    {
        var body = new List<byte> { 0, 0 }; // something before the values, as in a real Bind
        var at = new List<(int, int)>();
        foreach (var v in values)
        {
            at.Add(v is null ? (body.Count, -1) : (body.Count, v.Length));
            if (v is not null) body.AddRange(v);
        }
        return BoundParameters.Decode(body.ToArray(), at.ToArray(), [1], types.Select(t => (PgType?)t).ToArray(), TimeZoneInfo.Utc);
    }

    private static byte[] Int8(long v)
    {
        var b = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(b, v);
        return b;
    }

    private static readonly Gen<string?> Text = Gen.OneOf(
        Gen.String.Select(s => (string?)s),
        Gen.Char["aé€😀\u0000 \"\\{}"].Array[0, 12].Select(c => (string?)new string(c)),
        Gen.Const((string?)null), Gen.Const((string?)""));

    [Fact]
    public void A_planned_insert_builds_the_same_columns_from_utf8_values_as_from_decoded_strings()
    {
        Gen.Int[1, 6].SelectMany(rows => Text.Array[rows * 3].Select(texts => (rows, texts))).Sample(sample =>
        {
            var (rows, texts) = sample;
            var values = new byte[]?[rows * 4];
            var types = new PgType[rows * 4];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var s = texts[r * 3 + c];
                    values[r * 4 + c] = s is null ? null : Encoding.UTF8.GetBytes(s);
                    types[r * 4 + c] = c == 2 ? PgType.Json : PgType.Text;
                }
                values[r * 4 + 3] = r % 2 == 0 ? null : Int8(r * 1_000_000_007L);
                types[r * 4 + 3] = PgType.Int8;
            }
            var plan = Plan(rows);
            using var fromBytes = plan.TryBuild(Bind(values, types));
            // The same values read as CLR values first (what every other consumer of parameters gets).
            var bound = Bind(values, types);
            var decoded = Enumerable.Range(0, bound.Count).Select(i => bound[i]).ToArray();
            using var fromStrings = plan.TryBuild(decoded);
            Assert.Equal(fromStrings is null, fromBytes is null);
            // A NUL in text leaves the statement to the general path (PostgreSQL's 22021 in its words).
            Assert.Equal(texts.Any(t => t is not null && t.Contains('\0')), fromBytes is null);
            if (fromBytes is null || fromStrings is null) return;
            for (var c = 0; c < 3; c++)
            {
                var (a, b) = ((StringArray)fromBytes.Column(c), (StringArray)fromStrings.Column(c));
                Assert.Equal(b.NullCount, a.NullCount);
                for (var r = 0; r < rows; r++)
                {
                    Assert.Equal(b.IsNull(r), a.IsNull(r));
                    Assert.Equal(b.GetString(r), a.GetString(r));
                    Assert.Equal(decoded[r * 4 + c], a.GetString(r));
                }
            }
            var n = (Int64Array)fromBytes.Column(3);
            for (var r = 0; r < rows; r++) Assert.Equal(r % 2 == 0 ? null : r * 1_000_000_007L, n.GetValue(r));
        }, iter: 300);
    }

    [Fact]
    public void Text_values_read_back_as_the_strings_sent_and_other_values_as_decoded()
    {
        var bound = Bind([Encoding.UTF8.GetBytes("héllo 😀"), null, Int8(-7), [], Encoding.UTF8.GetBytes("{\"a\": 1}")],
            [PgType.Text, PgType.Text, PgType.Int8, PgType.Text, PgType.Json]);
        Assert.True(bound.TryGetUtf8(0, out var utf8));
        Assert.Equal("héllo 😀", Encoding.UTF8.GetString(utf8));
        Assert.False(bound.TryGetUtf8(1, out _));
        Assert.False(bound.TryGetUtf8(2, out _));
        Assert.Equal(["héllo 😀", null, -7L, "", "{\"a\": 1}"], bound.ToArray());
        // Once read as a string, the value is that string from then on.
        Assert.False(bound.TryGetUtf8(0, out _));
        Assert.Same(bound[0], bound[0]);
    }

    [Fact]
    public void Invalid_utf8_text_fails_at_bind_with_22021_naming_the_parameter()
    {
        var e = Assert.Throws<PostgresErrorException>(() => Bind([Encoding.UTF8.GetBytes("ok"), [0x61, 0xC3, 0x28]], [PgType.Text, PgType.Text]));
        Assert.Equal("22021", e.SqlState);
        Assert.Equal("parameter $2", e.Where);
        Assert.Throws<PostgresErrorException>(() => Bind([[0xED, 0xA0, 0x80]], [PgType.Json])); // an encoded surrogate
    }
}
