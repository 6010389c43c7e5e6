using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Grains;
using TimeFusion.Silo.Backend;
using TimeFusion.Tables;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// The per-statement INSERT plan: which statement shapes it takes (anything else is left to the general path), and the
/// Arrow columns it builds from bound values for every column kind — or null (the general path) for a value it cannot
/// convert exactly.
/// </summary>
public sealed class PreparedInsertPlanTests
{
    private static readonly TableDefinition Kinds = new("kinds",
    [
        new ColumnDefinition("project_id", ColumnType.Utf8, false),
        new ColumnDefinition("timestamp", ColumnType.TimestampUs, false),
        new ColumnDefinition("date", ColumnType.Date, false),
        new ColumnDefinition("id", ColumnType.Utf8, false),
        new ColumnDefinition("n", ColumnType.Int64),
        new ColumnDefinition("i", ColumnType.Int32),
        new ColumnDefinition("d", ColumnType.Float64),
        new ColumnDefinition("b", ColumnType.Boolean),
        new ColumnDefinition("j", ColumnType.Json),
        new ColumnDefinition("tags", ColumnType.Utf8List),
        new ColumnDefinition("raw", ColumnType.Binary),
    ]);

    private const string AllKinds = "INSERT INTO kinds (timestamp, id, n, i, d, b, j, tags, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18)";

    private static PreparedInsertPlan? Plan(string sql) =>
        PreparedInsertPlan.TryCreate(sql, name => string.Equals(name, Kinds.Name, StringComparison.OrdinalIgnoreCase) ? Kinds : null);

    [Theory]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ($1, $2)")]
    [InlineData("insert into public.KINDS (ID, \"timestamp\") values ($1, $2), ($3, NULL);")]
    [InlineData("INSERT INTO \"kinds\" (project_id, id, timestamp) VALUES ($2, $1, $3)")]
    public void Plain_parameterized_inserts_get_a_plan(string sql) => Assert.NotNull(Plan(sql));

    [Theory]
    [InlineData("INSERT INTO kinds VALUES ($1, $2)")] // positional rows: the general path knows which columns they fill
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ($1, now())")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ($1, $2::timestamptz)")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ('x', $1)")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES (($1), $2)")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ($1)")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ($1, $2, $3)")]
    [InlineData("INSERT INTO kinds (id, id) VALUES ($1, $2)")]
    [InlineData("INSERT INTO kinds (id, nope) VALUES ($1, $2)")]
    [InlineData("INSERT INTO nope (id, timestamp) VALUES ($1, $2)")]
    [InlineData("INSERT INTO other.kinds (id, timestamp) VALUES ($1, $2)")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ($1, $2) RETURNING id")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ($1, $2) ON CONFLICT DO NOTHING")]
    [InlineData("INSERT INTO kinds (id, timestamp) SELECT $1, $2")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES (NULL, NULL)")]
    [InlineData("INSERT INTO kinds (id, timestamp) VALUES ($1, '2026-01-01")]
    [InlineData("WITH x AS (SELECT 1) INSERT INTO kinds (id, timestamp) VALUES ($1, $2)")]
    public void Other_shapes_are_left_to_the_general_path(string sql) => Assert.Null(Plan(sql));

    [Fact]
    public void Every_column_kind_is_built_from_its_values_and_nulls()
    {
        var plan = Plan(AllKinds)!;
        var t0 = new DateTime(2026, 12, 6, 10, 0, 0, DateTimeKind.Utc).AddTicks(1234567); // 123456.7 µs: truncated
        var t1 = new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.FromHours(2)).AddTicks(5); // before the epoch
        using var batch = plan.TryBuild([
            t0, "a", 42L, 7, 1.25, true, "{\"k\": [1, 2]}", new[] { "x", null, "y z" }, new byte[] { 0, 1, 255 },
            t1, "b", DBNull.Value, null, double.NaN, false, null, System.Array.Empty<string>(), null,
        ])!;
        Assert.Equal(2, batch.Length);
        Assert.Equal(["timestamp", "id", "n", "i", "d", "b", "j", "tags", "raw"], batch.Schema.FieldsList.Select(f => f.Name));
        var canonical = TableSchema.Create(Kinds.Name, Kinds.Columns).ToArrowSchema();
        foreach (var field in batch.Schema.FieldsList)
            Assert.Equal(canonical.GetFieldByName(field.Name).DataType.TypeId, field.DataType.TypeId);
        Assert.Equal(TimeUnit.Microsecond, ((TimestampType)batch.Schema.GetFieldByName("timestamp").DataType).Unit);

        var ts = (TimestampArray)batch.Column(0);
        Assert.Equal((t0.Ticks - DateTime.UnixEpoch.Ticks) / 10, ts.GetValue(0));
        Assert.Equal((long)Math.Floor((t1.UtcTicks - DateTime.UnixEpoch.Ticks) / 10.0), ts.GetValue(1));
        Assert.Equal(["a", "b"], Enumerable.Range(0, 2).Select(r => ((StringArray)batch.Column(1)).GetString(r)));
        Assert.Equal(42L, ((Int64Array)batch.Column(2)).GetValue(0));
        Assert.True(batch.Column(2).IsNull(1));
        Assert.Equal(7, ((Int32Array)batch.Column(3)).GetValue(0));
        Assert.True(batch.Column(3).IsNull(1));
        Assert.Equal(1.25, ((DoubleArray)batch.Column(4)).GetValue(0));
        Assert.True(double.IsNaN(((DoubleArray)batch.Column(4)).GetValue(1)!.Value));
        Assert.Equal([true, false], Enumerable.Range(0, 2).Select(r => ((BooleanArray)batch.Column(5)).GetValue(r)));
        Assert.Equal("{\"k\": [1, 2]}", ((StringArray)batch.Column(6)).GetString(0));
        Assert.True(batch.Column(6).IsNull(1));
        var tags = (ListArray)batch.Column(7);
        var items = (StringArray)tags.Values;
        Assert.Equal(3, tags.GetValueLength(0));
        Assert.Equal(["x", null, "y z"], Enumerable.Range(tags.ValueOffsets[0], 3).Select(r => items.GetString(r)));
        Assert.False(tags.IsNull(1));
        Assert.Equal(0, tags.GetValueLength(1));
        Assert.Equal(new byte[] { 0, 1, 255 }, ((BinaryArray)batch.Column(8)).GetBytes(0).ToArray());
        Assert.True(batch.Column(8).IsNull(1));
        Assert.Equal([0, 0, 1, 1, 0, 0, 1, 0, 1], Enumerable.Range(0, 9).Select(c => batch.Column(c).NullCount));
    }

    [Fact]
    public void A_null_literal_and_a_repeated_parameter_fill_their_cells()
    {
        var plan = Plan("INSERT INTO kinds (id, timestamp, n) VALUES ($1, $2, NULL), ($1, $2, $3)")!;
        using var batch = plan.TryBuild(["same", DateTimeOffset.UnixEpoch, 5])!;
        Assert.Equal(["same", "same"], Enumerable.Range(0, 2).Select(r => ((StringArray)batch.Column(0)).GetString(r)));
        Assert.Equal([0L, 0L], Enumerable.Range(0, 2).Select(r => ((TimestampArray)batch.Column(1)).GetValue(r)!.Value));
        Assert.True(batch.Column(2).IsNull(0));
        Assert.Equal(5L, ((Int64Array)batch.Column(2)).GetValue(1));
    }

    [Fact]
    public void A_project_id_column_is_located()
    {
        Assert.Equal(1, Plan("INSERT INTO kinds (id, project_id, timestamp) VALUES ($1, $2, $3)")!.ProjectColumn);
        Assert.Equal(-1, Plan("INSERT INTO kinds (id, timestamp) VALUES ($1, $2)")!.ProjectColumn);
    }

    public static TheoryData<string, object?> Unconvertible => new()
    {
        { "id", 42 },                                   // a number into text: DuckDB renders it
        { "id", "nul\0inside" },                        // 22021, worded by the general path
        { "id", 'c' },
        { "n", "42" },                                  // text into a number: DuckDB parses it (or refuses with 22P02)
        { "n", 1.5 },
        { "n", 42m },
        { "n", ulong.MaxValue },
        { "i", 3_000_000_000L },                        // out of range: 22003 from the general path
        { "d", 5L },                                    // a 64-bit integer may not be exact as a double
        { "d", "1.5" },
        { "b", 1 },
        { "b", "true" },
        { "timestamp", "2026-12-06 10:00:00+00" },
        { "timestamp", new DateTime(2026, 12, 6, 10, 0, 0, DateTimeKind.Unspecified) }, // read in the session's time zone
        { "timestamp", new DateOnly(2026, 12, 6) },
        { "j", 42 },
        { "tags", "{x,y}" },                           // PostgreSQL array text in a text parameter: the general path parses it
        { "tags", new[] { "ok", "nul\0" } },
        { "tags", new List<string> { "x" } },
        { "raw", "\\x00" },
    };

    [Theory]
    [MemberData(nameof(Unconvertible))]
    public void A_value_the_plan_cannot_convert_exactly_leaves_the_execution_to_the_general_path(string column, object? value)
    {
        var columns = column is "id" or "timestamp" ? "id, timestamp" : $"id, timestamp, {column}";
        var sql = $"INSERT INTO kinds ({columns}) VALUES ($1, $2{(column is "id" or "timestamp" ? "" : ", $3")})";
        var plan = Plan(sql)!;
        object?[] values = column switch
        {
            "id" => [value, DateTimeOffset.UnixEpoch],
            "timestamp" => ["x", value],
            _ => ["x", DateTimeOffset.UnixEpoch, value],
        };
        Assert.Null(plan.TryBuild(values));
    }

    [Fact]
    public void A_wrong_parameter_count_leaves_the_execution_to_the_general_path()
    {
        var plan = Plan("INSERT INTO kinds (id, timestamp) VALUES ($1, $2)")!;
        Assert.Equal(2, plan.ParameterCount);
        Assert.Null(plan.TryBuild(["x"]));
        Assert.Null(plan.TryBuild(["x", DateTimeOffset.UnixEpoch, 3]));
        Assert.NotNull(plan.TryBuild(["x", DateTimeOffset.UnixEpoch]));
    }
}
