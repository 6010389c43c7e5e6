using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Ingest;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Ingest;

public class BatchValidatorTests
{
    private static readonly TableSchema Schema = TableSchema.Create("events",
    [
        new ColumnDefinition("id", ColumnType.Utf8, Nullable: false),
        new ColumnDefinition("level", ColumnType.Utf8),
        new ColumnDefinition("duration", ColumnType.Int64),
        new ColumnDefinition("hashes", ColumnType.Utf8List),
    ]);

    private static readonly IngestOptions Options = new();
    private static readonly long Day = 86_400_000_000L;
    private static readonly long T0 = (new DateTimeOffset(2026, 11, 24, 23, 59, 59, TimeSpan.Zero) - DateTimeOffset.UnixEpoch).Ticks / 10;

    private static TimestampArray Timestamps(params long[] micros)
    {
        var b = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        foreach (var m in micros) b.Append(DateTimeOffset.UnixEpoch.AddTicks(m * 10));
        return b.Build();
    }

    private static StringArray Strings(params string?[] values)
    {
        var b = new StringArray.Builder();
        foreach (var v in values) b.Append(v);
        return b.Build();
    }

    private static RecordBatch Batch(params (string Name, IArrowArray Array)[] columns) =>
        new(new Schema(columns.Select(c => new Field(c.Name, c.Array.Data.DataType, true)), null), columns.Select(c => c.Array), columns[0].Array.Length);

    [Fact]
    public void A_nul_character_in_text_is_refused_with_22021_naming_row_and_column()
    {
        var text = Batch(("id", Strings("a", "", "x", "b\0c", "d")), ("level", Strings("i", null, "i", "i", "i")), ("timestamp", Timestamps(T0, T0, T0, T0, T0)));
        var e = Assert.Throws<BatchRejectedException>(() => BatchValidator.Validate(text, Schema, "p", Options));
        Assert.Equal("22021", e.SqlState);
        Assert.Contains("row 3, column 'id'", e.Message);

        var lists = new ListArray.Builder(StringType.Default);
        var values = (StringArray.Builder)lists.ValueBuilder;
        lists.Append(); values.Append("x");
        lists.Append(); values.Append("y"); values.Append("z\0");
        var listBatch = Batch(("id", Strings("a", "b")), ("hashes", lists.Build()), ("timestamp", Timestamps(T0, T0)));
        var l = Assert.Throws<BatchRejectedException>(() => BatchValidator.Validate(listBatch, Schema, "p", Options));
        Assert.Equal("22021", l.SqlState);
        Assert.Contains("row 1, column 'hashes'", l.Message);

        // Without a NUL the same shapes pass.
        BatchValidator.Validate(Batch(("id", Strings("a", "", "x", "bc", "d")), ("level", Strings("i", null, "i", "i", "i")), ("timestamp", Timestamps(T0, T0, T0, T0, T0))), Schema, "p", Options);
    }

    [Fact]
    public void Fills_date_project_and_missing_nullable_columns_in_canonical_order()
    {
        var batch = Batch(("id", Strings("a", "b")), ("timestamp", Timestamps(T0, T0 + 1_000_000)));
        var result = BatchValidator.Validate(batch, Schema, "p1", Options).Batch;
        Assert.Equal(Schema.Columns.Select(c => c.Name), result.Schema.FieldsList.Select(f => f.Name));
        var dates = (Date32Array)result.Column(Schema.IndexOf("date"));
        Assert.Equal(new DateTime(2026, 11, 24), dates.GetDateTime(0));
        Assert.Equal(new DateTime(2026, 11, 25), dates.GetDateTime(1)); // one second later is the next UTC day
        Assert.Equal("p1", ((StringArray)result.Column(Schema.IndexOf("project_id"))).GetString(1));
        Assert.Equal(2, result.Column(Schema.IndexOf("duration")).NullCount);
        Assert.Equal(2, result.Column(Schema.IndexOf("hashes")).NullCount);
    }

    [Fact]
    public void Accepts_large_view_and_dictionary_strings_as_utf8_with_equal_values()
    {
        var large = new LargeStringArray.Builder().Append("x").Append("yy").Build();
        var view = new StringViewArray.Builder().Append("a long string that does not fit inline").AppendNull().Build();
        var dict = new DictionaryArray(new DictionaryType(Int32Type.Default, StringType.Default, false),
            new Int32Array.Builder().Append(1).Append(0).Build(), Strings("info", "error"));
        var batch = Batch(("id", large), ("timestamp", Timestamps(T0, T0)), ("level", view), ("hashes", BuildList()));
        var result = BatchValidator.Validate(batch, Schema, "p", Options).Batch;
        Assert.Equal("yy", ((StringArray)result.Column(Schema.IndexOf("id"))).GetString(1));
        Assert.Equal("a long string that does not fit inline", ((StringArray)result.Column(Schema.IndexOf("level"))).GetString(0));
        Assert.True(result.Column(Schema.IndexOf("level")).IsNull(1));

        var withDict = BatchValidator.Validate(Batch(("id", dict), ("timestamp", Timestamps(T0, T0))), Schema, "p", Options).Batch;
        var ids = (StringArray)withDict.Column(Schema.IndexOf("id"));
        Assert.Equal(["error", "info"], new[] { ids.GetString(0), ids.GetString(1) });
    }

    private static ListArray BuildList()
    {
        var b = new ListArray.Builder(StringType.Default);
        var v = (StringArray.Builder)b.ValueBuilder;
        b.Append(); v.Append("h1"); v.Append("h2");
        b.Append();
        return b.Build();
    }

    [Fact]
    public void Converts_nanosecond_timestamps_to_microseconds()
    {
        var ns = new TimestampArray.Builder(new TimestampType(TimeUnit.Nanosecond, (string?)null)).Append(DateTimeOffset.UnixEpoch.AddTicks(T0 * 10)).Build();
        var result = BatchValidator.Validate(Batch(("id", Strings("a")), ("timestamp", ns)), Schema, "p", Options).Batch;
        Assert.Equal(T0, ((TimestampArray)result.Column(Schema.IndexOf("timestamp"))).Values[0]);
    }

    [Theory]
    [InlineData("unknown", "does not exist")]
    [InlineData("wrongtype", "is Int64; the batch sent")]
    [InlineData("nullid", "is NOT NULL but row 1 is null")]
    [InlineData("missingts", "'timestamp' is NOT NULL and missing")]
    [InlineData("badproject", "does not match the target project")]
    [InlineData("baddate", "is not the UTC date of its timestamp")]
    [InlineData("future", "outside the accepted range")]
    [InlineData("duplicate", "appears twice")]
    public void Rejects_bad_batches_with_a_clear_message(string @case, string expected)
    {
        var ts = Timestamps(T0, T0);
        var batch = @case switch
        {
            "unknown" => Batch(("id", Strings("a", "b")), ("timestamp", ts), ("nope", Strings("x", "y"))),
            "wrongtype" => Batch(("id", Strings("a", "b")), ("timestamp", ts), ("duration", Strings("1", "2"))),
            "nullid" => Batch(("id", Strings("a", null)), ("timestamp", ts)),
            "missingts" => Batch(("id", Strings("a", "b"))),
            "badproject" => Batch(("id", Strings("a", "b")), ("timestamp", ts), ("project_id", Strings("p", "other"))),
            "baddate" => Batch(("id", Strings("a", "b")), ("timestamp", ts), ("date", new Date32Array.Builder().Append(new DateTime(2026, 11, 24)).Append(new DateTime(2026, 11, 23)).Build())),
            "future" => Batch(("id", Strings("a", "b")), ("timestamp", Timestamps(T0, 9_300_000_000L * Day / 1000))),
            "duplicate" => Batch(("id", Strings("a", "b")), ("timestamp", ts), ("id", Strings("a", "b"))),
            _ => throw new ArgumentOutOfRangeException(nameof(@case)),
        };
        var e = Assert.Throws<BatchRejectedException>(() => BatchValidator.Validate(batch, Schema, "p", Options));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Rejects_oversized_batches()
    {
        var batch = Batch(("id", Strings("a", "b", "c")), ("timestamp", Timestamps(T0, T0, T0)));
        var e = Assert.Throws<BatchRejectedException>(() => BatchValidator.Validate(batch, Schema, "p", new IngestOptions { MaxRowsPerBatch = 2 }));
        Assert.Contains("3 rows", e.Message);
    }

    [Theory]
    [InlineData(-1L, -1)]
    [InlineData(0L, 0)]
    [InlineData(86_399_999_999L, 0)]
    [InlineData(86_400_000_000L, 1)]
    [InlineData(-86_400_000_001L, -2)]
    public void Day_numbers_use_floor_division(long micros, int day) => Assert.Equal(day, BatchValidator.DayOf(micros));
}

public class BatchValidatorStructureTests
{
    [Fact]
    public void Rejects_a_string_column_whose_offsets_point_past_its_data()
    {
        var offsets = new ArrowBuffer.Builder<int>().Append(0).Append(1_000).Build(); // data holds 1 byte
        var data = new ArrowBuffer.Builder<byte>().Append((byte)'a').Build();
        var id = new StringArray(1, offsets, data, ArrowBuffer.Empty, 0, 0);
        var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC")).Append(DateTimeOffset.UtcNow).Build();
        var batch = new RecordBatch(new Schema([new Field("id", StringType.Default, false), new Field("timestamp", ts.Data.DataType, false)], null), [id, ts], 1);
        var schema = TableSchema.Create("t", [new ColumnDefinition("id", ColumnType.Utf8, Nullable: false)]);
        var e = Assert.Throws<BatchRejectedException>(() => BatchValidator.Validate(batch, schema, "p", new IngestOptions()));
        Assert.Contains("malformed Arrow batch", e.Message);
    }
}
