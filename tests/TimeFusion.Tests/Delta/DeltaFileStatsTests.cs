using TimeFusion.Delta;

namespace TimeFusion.Tests.Delta;

public sealed class DeltaFileStatsTests
{
    [Fact]
    public void Stats_round_trip_through_json()
    {
        var stats = new DeltaFileStats
        {
            NumRecords = 12345,
            TightBounds = true,
            MinValues = new Dictionary<string, DeltaStatValue>
            {
                ["timestamp"] = DeltaStatValue.FromTimestampMicros(DeltaTestData.Micros(2024, 1, 2) + 1),
                ["date"] = DeltaStatValue.FromDate(new DateOnly(2024, 1, 2)),
                ["name"] = DeltaStatValue.FromString("quote \" and ünïcode"),
                ["count"] = DeltaStatValue.FromInt64(long.MinValue),
                ["ratio"] = DeltaStatValue.FromDouble(0.1),
                ["flag"] = DeltaStatValue.FromBoolean(false),
                ["price"] = DeltaStatValue.FromDecimal(12.345m),
                ["nested"] = DeltaStatValue.FromStruct(new Dictionary<string, DeltaStatValue> { ["inner"] = DeltaStatValue.FromInt64(7) }),
            },
            MaxValues = new Dictionary<string, DeltaStatValue> { ["timestamp"] = DeltaStatValue.FromTimestampMicros(DeltaTestData.Micros(2024, 1, 2, 23)) },
            NullCount = new Dictionary<string, DeltaStatValue> { ["name"] = DeltaStatValue.FromInt64(3) },
        };
        var json = stats.ToJson();
        Assert.Contains("\"timestamp\":\"2024-01-02T00:00:00.000001Z\"", json);
        Assert.Contains("ünïcode", json);
        var back = DeltaFileStats.Parse(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(12345, back.NumRecords);
        Assert.True(back.TightBounds);
        Assert.True(back.TryGetMinTimestampMicros("timestamp", out var min));
        Assert.Equal(DeltaTestData.Micros(2024, 1, 2) + 1, min);
        Assert.True(back.MinValues["date"].TryGetDate(out var date));
        Assert.Equal(new DateOnly(2024, 1, 2), date);
        Assert.True(back.MinValues["count"].TryGetInt64(out var count));
        Assert.Equal(long.MinValue, count);
        Assert.True(back.MinValues["ratio"].TryGetDouble(out var ratio));
        Assert.Equal(0.1, ratio);
        Assert.True(back.MinValues["flag"].TryGetBoolean(out var flag));
        Assert.False(flag);
        Assert.True(back.MinValues["nested"].Fields["inner"].TryGetInt64(out var inner));
        Assert.Equal(7, inner);
        Assert.True(back.TryGetNullCount("name", out var nulls));
        Assert.Equal(3, nulls);
        Assert.False(back.TryGetNullCount("missing", out _));
        Assert.False(back.MinValues["name"].TryGetInt64(out _));
    }

    [Fact]
    public void Spark_style_stats_parse_including_millisecond_and_edge_timestamps()
    {
        var s = DeltaFileStats.Parse("""
            {"numRecords":1,"minValues":{"BIG":"9999-12-31T00:00:00.000Z","ts":"2021-02-18T21:54:34.538-08:00","s":{"a":"x"}},
             "maxValues":{"BIG":"9999-12-31T23:59:59.999999Z"},"nullCount":{"BIG":0,"s":{"a":1}},"tightBounds":false,"futureStat":[1,2]}
            """);
        Assert.True(s.TryGetMinTimestampMicros("BIG", out var big));
        Assert.Equal(new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), DeltaTimestamps.ToDateTime(big));
        Assert.True(s.TryGetMaxTimestampMicros("BIG", out var bigMax));
        Assert.Equal("9999-12-31T23:59:59.999999Z", DeltaTimestamps.FormatMicros(bigMax));
        Assert.True(s.TryGetMinTimestampMicros("ts", out var ts));
        Assert.Equal(new DateTimeOffset(2021, 2, 19, 5, 54, 34, 538, TimeSpan.Zero), DeltaTimestamps.ToDateTime(ts));
        Assert.Equal(DeltaStatKind.Struct, s.MinValues["s"].Kind);
        Assert.False(s.TightBounds);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"numRecords":"ten"}""")]
    [InlineData("""{"numRecords":-1}""")]
    [InlineData("""{"numRecords":1.5}""")]
    [InlineData("""{"minValues":[1]}""")]
    public void Malformed_stats_are_a_clear_error(string json)
    {
        var e = Assert.Throws<DeltaLogCorruptException>(() => DeltaFileStats.Parse(json));
        Assert.Contains("statistics", e.Message);
    }

    [Fact]
    public void Non_finite_doubles_and_out_of_range_timestamps_are_rejected_when_writing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DeltaStatValue.FromDouble(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeltaStatValue.FromTimestampMicros(long.MaxValue));
    }
}
