using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

public class ParquetStatsParserTests
{
    [Theory]
    [InlineData("2024-01-02 00:08:20.000001+00", "2024-01-02T00:08:20.000001Z")]
    [InlineData("2024-01-02 00:08:20+00", "2024-01-02T00:08:20.000000Z")]
    [InlineData("2024-01-02 00:08:20.5+00", "2024-01-02T00:08:20.500000Z")]
    [InlineData("2024-01-02 01:08:20.25+01:00", "2024-01-02T00:08:20.250000Z")]
    [InlineData("not a time", null)]
    public void Timestamps_become_iso_utc_with_microseconds(string text, string? expected) =>
        Assert.Equal(expected, ParquetStatsParser.Convert(ColumnType.TimestampUs, text, isMax: false, 32));

    [Fact]
    public void Numbers_booleans_and_dates_are_typed()
    {
        Assert.Equal(-42L, ParquetStatsParser.Convert(ColumnType.Int32, "-42", false, 32));
        Assert.Equal(9_000_000_000L, ParquetStatsParser.Convert(ColumnType.Int64, "9000000000", false, 32));
        Assert.Equal(1.5, ParquetStatsParser.Convert(ColumnType.Float64, "1.5", false, 32));
        Assert.Null(ParquetStatsParser.Convert(ColumnType.Float64, "nan", false, 32));
        Assert.Equal(true, ParquetStatsParser.Convert(ColumnType.Boolean, "1", false, 32));
        Assert.Equal("2024-03-05", ParquetStatsParser.Convert(ColumnType.Date, "2024-03-05", false, 32));
        Assert.Null(ParquetStatsParser.Convert(ColumnType.Int64, "12abc", false, 32));
    }

    [Fact]
    public void Long_strings_are_truncated_to_bounds_that_still_hold()
    {
        var value = "ab✓日本語" + new string('z', 10);
        var min = ParquetStatsParser.Truncate(value, isMax: false, 4);
        var max = ParquetStatsParser.Truncate(value, isMax: true, 4);
        Assert.Equal("ab✓日", min);
        Assert.Equal("ab✓日\U0010FFFF", max);
        Assert.True(string.CompareOrdinal(min, value) <= 0);
        Assert.True(string.CompareOrdinal(max, value) >= 0);
        // Surrogate pairs count as one character and are never split.
        Assert.Equal("😀😀", ParquetStatsParser.Truncate("😀😀😀", isMax: false, 2));
        Assert.Equal("short", ParquetStatsParser.Truncate("short", isMax: true, 32));
    }

    [Fact]
    public void Only_top_level_column_keys_are_taken()
    {
        Assert.True(ParquetStatsParser.TryUnquoteTopLevel("\"level\"", out var a));
        Assert.Equal("level", a);
        Assert.True(ParquetStatsParser.TryUnquoteTopLevel("\"we\"\"ird\"", out var b));
        Assert.Equal("we\"ird", b);
        Assert.False(ParquetStatsParser.TryUnquoteTopLevel("\"hashes\".\"element\"", out _));
        Assert.False(ParquetStatsParser.TryUnquoteTopLevel("level", out _));
    }
}
