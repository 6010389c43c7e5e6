using System.Numerics;
using System.Text;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>The value codecs on their own: numeric, date/time text, parameter decoding.</summary>
public sealed class CodecTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("12.34", "12.34")]
    [InlineData("-0.0001", "-0.0001")]
    [InlineData("100000000", "100000000")]
    [InlineData("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789")]
    [InlineData("0.10", "0.10")]
    [InlineData("1e3", "1000")]
    [InlineData("-1.5E-3", "-0.0015")]
    public void Numeric_text_and_binary_round_trip(string input, string expected)
    {
        Assert.True(PgNumeric.TryParseText(Encoding.ASCII.GetBytes(input), out var unscaled, out var scale));
        Assert.Equal(expected, PgNumeric.ToText(unscaled, scale));
        using var buffer = new PgOutputBuffer();
        PgNumeric.WriteBinary(buffer, unscaled, scale);
        Assert.True(PgNumeric.TryDecodeBinary(buffer.WrittenSpan, out var back, out var backScale, out _));
        Assert.Equal(expected, PgNumeric.ToText(back, backScale));
    }

    [Fact]
    public void Numeric_binary_layout_matches_postgresql()
    {
        using var buffer = new PgOutputBuffer();
        PgNumeric.WriteBinary(buffer, new BigInteger(1234), 2); // 12.34: ndigits 2, weight 0, sign +, dscale 2, [12, 3400]
        Assert.Equal(new byte[] { 0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x0D, 0x48 }, buffer.WrittenSpan.ToArray());
        buffer.Clear();
        PgNumeric.WriteBinary(buffer, new BigInteger(-5), 4); // -0.0005: ndigits 1, weight -1, sign -, dscale 4, [5]
        Assert.Equal(new byte[] { 0, 1, 0xFF, 0xFF, 0x40, 0, 0, 4, 0, 5 }, buffer.WrittenSpan.ToArray());
        buffer.Clear();
        PgNumeric.WriteBinary(buffer, new BigInteger(20000), 0); // 20000: ndigits 1, weight 1, [2]
        Assert.Equal(new byte[] { 0, 1, 0, 1, 0, 0, 0, 0, 0, 2 }, buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Numeric_special_values_are_reported()
    {
        Assert.False(PgNumeric.TryDecodeBinary([0, 0, 0, 0, 0xC0, 0, 0, 0], out _, out _, out var special));
        Assert.Equal("NaN", special);
        Assert.Throws<PostgresErrorException>(() => PgNumeric.TryDecodeBinary([0, 5, 0, 0, 0, 0, 0, 0], out _, out _, out _));
    }

    [Theory]
    [InlineData(0L, null, "1970-01-01 00:00:00")]
    [InlineData(1_500_000L, 0, "1970-01-01 00:00:01.5+00")]
    [InlineData(-1L, null, "1969-12-31 23:59:59.999999")]
    [InlineData(0L, 19800, "1970-01-01 05:30:00+05:30")]
    [InlineData(0L, -3600, "1969-12-31 23:00:00-01")]
    [InlineData(long.MaxValue, null, "infinity")]
    [InlineData(long.MinValue, 0, "-infinity")]
    [InlineData(-62_135_596_800_000_000L - 86_400_000_000L, null, "0001-12-31 00:00:00 BC")]
    [InlineData(253_402_300_800_000_000L, null, "10000-01-01 00:00:00")]
    public void Timestamps_format_as_postgresql_iso(long micros, int? offset, string expected)
    {
        var bytes = new byte[64];
        var n = PgDateTime.FormatTimestamp(bytes, micros, offset);
        Assert.Equal(expected, Encoding.ASCII.GetString(bytes, 0, n));
    }

    [Theory]
    [InlineData(0, 0, 0L, "00:00:00")]
    [InlineData(0, 1, 7_200_000_000L, "1 day 02:00:00")]
    [InlineData(14, 3, 1L, "1 year 2 mons 3 days 00:00:00.000001")]
    [InlineData(0, -1, 3_600_000_000L, "-1 days +01:00:00")]
    [InlineData(-1, 0, -1_000_000L, "-1 mons -00:00:01")]
    [InlineData(0, 0, 129_600_000_000L, "36:00:00")]
    public void Intervals_format_in_postgres_style(long months, long days, long micros, string expected)
    {
        var bytes = new byte[96];
        var n = PgDateTime.FormatInterval(bytes, months, days, micros);
        Assert.Equal(expected, Encoding.ASCII.GetString(bytes, 0, n));
    }

    [Theory]
    [InlineData("2024-03-04 05:06:07", true, 1_709_528_767_000_000L)]
    [InlineData("2024-03-04T05:06:07.123456Z", true, 1_709_528_767_123_456L)]
    [InlineData("2024-03-04 07:06:07+02", true, 1_709_528_767_000_000L)]
    [InlineData("2024-03-04 07:36:07+02:30", true, 1_709_528_767_000_000L)]
    [InlineData("2024-03-04 05:06:07+02", false, 1_709_528_767_000_000L)]
    [InlineData("2024-03-04", true, 1_709_510_400_000_000L)]
    [InlineData("0001-01-01 00:00:00 BC", false, -62_167_219_200_000_000L)]
    [InlineData("infinity", true, long.MaxValue)]
    [InlineData("-infinity", false, long.MinValue)]
    public void Timestamps_parse_from_postgresql_text(string text, bool withZone, long expected)
    {
        Assert.True(PgDateTimeParser.TryParseTimestamp(Encoding.ASCII.GetBytes(text), withZone, TimeZoneInfo.Utc, out var micros));
        Assert.Equal(expected, micros);
    }

    [Theory]
    [InlineData("2024-13-01")]
    [InlineData("2023-02-29")]
    [InlineData("2024-01-01 25:00:00")]
    [InlineData("yesterday")]
    [InlineData("2024-01-01 00:00:00+99")]
    [InlineData("")]
    public void Bad_timestamps_are_refused(string text)
    {
        Assert.False(PgDateTimeParser.TryParseTimestamp(Encoding.ASCII.GetBytes(text), true, TimeZoneInfo.Utc, out _));
    }

    [Fact]
    public void Text_parameters_decode_by_type()
    {
        object? Decode(PgType type, string text) => ParameterDecoder.Decode(type, false, Encoding.UTF8.GetBytes(text), TimeZoneInfo.Utc);
        Assert.Equal(true, Decode(PgType.Bool, "yes"));
        Assert.Equal((short)-3, Decode(PgType.Int2, "-3"));
        Assert.Equal(123456, Decode(PgType.Int4, " 123456 "));
        Assert.Equal(long.MinValue, Decode(PgType.Int8, "-9223372036854775808"));
        Assert.Equal(double.PositiveInfinity, Decode(PgType.Float8, "Infinity"));
        Assert.Equal(1.25f, Decode(PgType.Float4, "1.25"));
        Assert.Equal(-12.5m, Decode(PgType.Numeric, "-12.50"));
        Assert.Equal(new byte[] { 0xde, 0xad }, Decode(PgType.Bytea, "\\xDEAD"));
        Assert.Equal(new byte[] { (byte)'a', 0, (byte)'\\' }, Decode(PgType.Bytea, "a\\000\\\\"));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc), Decode(PgType.Timestamptz, "2024-01-02 05:04:05+02"));
        Assert.Equal(DateTimeKind.Unspecified, ((DateTime)Decode(PgType.Timestamp, "2024-01-02 03:04:05")!).Kind);
        Assert.Equal(new DateOnly(2024, 2, 29), Decode(PgType.Date, "2024-02-29"));
        Assert.Equal(new TimeOnly(1, 2, 3), Decode(PgType.Time, "01:02:03"));
        Assert.Equal(TimeSpan.FromMinutes(90), Decode(PgType.Interval, "1 hour 30 minutes"));
        Assert.Equal(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1), Decode(PgType.Interval, "1 day 00:00:01"));
        Assert.Equal(Guid.Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), Decode(PgType.Uuid, "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"));
        Assert.Equal(new string?[] { "a", null, "b,c", "NULL" }, Decode(PgType.TextArray, "{a,NULL,\"b,c\",\"NULL\"}"));
        Assert.Equal(new int?[] { 1, null, 3 }, Decode(PgType.Int4Array, "{1,NULL,3}"));
        Assert.Equal("{\"a\":1}", Decode(PgType.Jsonb, "{\"a\":1}"));
        Assert.Equal("anything", ParameterDecoder.Decode(null, false, "anything"u8, TimeZoneInfo.Utc));
    }

    [Theory]
    [InlineData(23u, "12x", SqlState.InvalidTextRepresentation)]
    [InlineData(21u, "40000", SqlState.NumericValueOutOfRange)]
    [InlineData(16u, "maybe", SqlState.InvalidTextRepresentation)]
    [InlineData(1184u, "not a time", SqlState.InvalidDatetimeFormat)]
    [InlineData(1009u, "{a,{b}}", SqlState.InvalidTextRepresentation)] // nested: malformed for a one-dimensional list
    [InlineData(1009u, "{a,b", SqlState.InvalidTextRepresentation)]
    public void Bad_text_parameters_get_sqlstates(uint oid, string text, string sqlState)
    {
        var e = Assert.Throws<PostgresErrorException>(() => ParameterDecoder.Decode(PgType.FromOid(oid), false, Encoding.UTF8.GetBytes(text), TimeZoneInfo.Utc));
        Assert.Equal(sqlState, e.SqlState);
    }

    [Fact]
    public void Bad_binary_parameters_get_22P03()
    {
        var e = Assert.Throws<PostgresErrorException>(() => ParameterDecoder.Decode(PgType.Int8, true, [1, 2, 3], TimeZoneInfo.Utc));
        Assert.Equal(SqlState.InvalidBinaryRepresentation, e.SqlState);
        e = Assert.Throws<PostgresErrorException>(() => ParameterDecoder.Decode(PgType.TextArray, true, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1], TimeZoneInfo.Utc));
        Assert.Equal(SqlState.InvalidBinaryRepresentation, e.SqlState);
        e = Assert.Throws<PostgresErrorException>(() => ParameterDecoder.Decode(null, true, [1], TimeZoneInfo.Utc));
        Assert.Equal(SqlState.InvalidBinaryRepresentation, e.SqlState);
    }
}
