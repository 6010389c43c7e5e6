using System.Diagnostics;
using System.Text;
using Apache.Arrow;
using TimeFusion.Buffer;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Query.Statements;
using TimeFusion.Tests.Query.Planning;
using TimeFusion.Wire;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Abuse;

/// <summary>
/// Finding 10: a 100 k-row <c>INSERT … VALUES</c> of literals is read by the lexer into text columns and cast by DuckDB
/// in one query (it failed with out-of-memory and took 17 s for 30 k rows when every row became a syntax tree).
/// </summary>
[Collection(PlanningCollection.Name)]
public sealed class InsertValuesFastPathTests(PlanningFixture f, ITestOutputHelper output) : IDisposable
{
    private readonly BufferDatabase _db = BufferDatabase.Open(new BufferOptions { MemoryLimitBytes = 512L << 20, SoftLimitBytes = 64L << 20, HardLimitBytes = 128L << 20, Threads = 1 });

    public void Dispose() => _db.Dispose();

    private static readonly CallerScope User = CallerScope.User("p1", ["p1", "p2"]);

    private async Task<List<(string Project, QueryBatches Rows)>> RunAsync(string sql)
    {
        var plan = f.Dml.AnalyzeInsert(sql, TestCatalog.Standard(), User);
        return [.. await InsertValuesSplitter.SplitAsync(plan, new MergeExecutor(_db), User, CancellationToken.None)];
    }

    [Fact]
    public async Task A_hundred_thousand_literal_rows_are_planned_without_a_tree_per_row()
    {
        const int n = 100_000;
        var sb = new StringBuilder("INSERT INTO events (timestamp, service, level, duration, latency, ok, attributes) VALUES ");
        for (var i = 0; i < n; i++)
            sb.Append(i == 0 ? "" : ",\n").Append($"('2024-05-17 10:{i / 60 % 60:00}:{i % 60:00}+00', 'service-{i}', 'it''s', {i}, -{i}.5, {(i % 2 == 0 ? "TRUE" : "false")}, '{{\"a\":{i}}}')");
        var sql = sb.ToString();
        Assert.True(sql.Length > 4_000_000, $"{sql.Length} chars");
        var clock = Stopwatch.StartNew();
        var plan = f.Dml.AnalyzeInsert(sql, TestCatalog.Standard(), User);
        var planned = clock.Elapsed;
        Assert.NotNull(plan.Literals);
        Assert.Equal(n, plan.RowCount);
        Assert.Equal(["p1"], plan.Projects);
        var split = await InsertValuesSplitter.SplitAsync(plan, new MergeExecutor(_db), User, CancellationToken.None);
        output.WriteLine($"{n} rows, {sql.Length / 1e6:F1} MB: planned in {planned.TotalMilliseconds:F0} ms, cast in {(clock.Elapsed - planned).TotalMilliseconds:F0} ms");
        var (project, rows) = Assert.Single(split);
        using (rows)
        {
            Assert.Equal("p1", project);
            Assert.Equal(n, rows.RowCount);
            var batch = rows.Batches[0];
            var schema = batch.Schema;
            Assert.Equal("it's", ((StringArray)batch.Column(schema.GetFieldIndex("level"))).GetString(0));
            Assert.Equal(7L, ((Int64Array)batch.Column(schema.GetFieldIndex("duration"))).GetValue(7));
            Assert.Equal(-7.5, ((DoubleArray)batch.Column(schema.GetFieldIndex("latency"))).GetValue(7));
            Assert.Equal(false, ((BooleanArray)batch.Column(schema.GetFieldIndex("ok"))).GetValue(7));
            Assert.Equal("{\"a\":7}", ((StringArray)batch.Column(schema.GetFieldIndex("attributes"))).GetString(7));
        }
    }

    [Fact]
    public async Task Literal_rows_give_what_the_general_path_gives()
    {
        // Same values, once as literals (fast path) and once with an expression in the last row (general path).
        const string rows = "('2024-05-17 10:00:00+00', 'a', NULL, -3, 2.5e1, true, '[1, {\"b\": null}]', 'p2', $$x'y$$, E'tab\\there')";
        var fast = f.Dml.AnalyzeInsert($"INSERT INTO events (timestamp, service, level, duration, latency, ok, attributes, project_id, trace_id, status) VALUES {rows}", TestCatalog.Standard(), User);
        Assert.NotNull(fast.Literals);
        Assert.Equal(["p2"], fast.Projects);
        var slow = f.Dml.AnalyzeInsert($"INSERT INTO events (timestamp, service, level, duration, latency, ok, attributes, project_id, trace_id, status) VALUES {rows}, ('2024-05-17 10:00:00+00', 'a' || 'b', NULL, 1, 1, true, NULL, 'p2', 'x', NULL)".Replace("E'tab\\there'", "NULL"),
            TestCatalog.Standard(), User);
        Assert.Null(slow.Literals);
        var a = await RunAsync($"INSERT INTO events (timestamp, service, level, duration, latency, ok, attributes, project_id, trace_id) VALUES {rows.Replace(", E'tab\\there'", "")}");
        var b = await RunAsync($"INSERT INTO events (timestamp, service, level, duration, latency, ok, attributes, project_id, trace_id) VALUES {rows.Replace(", E'tab\\there'", "")}, ('2024-05-17 10:00:00+00', 'a' || 'b', NULL, 1, 1, true, NULL, 'p2', 'x')");
        using var fastRows = a[0].Rows;
        using var slowRows = b[0].Rows;
        var x = fastRows.Batches[0];
        var y = slowRows.Batches[0];
        Assert.Equal(x.ColumnCount, y.ColumnCount);
        for (var c = 0; c < x.ColumnCount; c++)
        {
            Assert.Equal(y.Schema.FieldsList[c].DataType.TypeId, x.Schema.FieldsList[c].DataType.TypeId);
            Assert.True(ValueOf(x.Column(c)) == ValueOf(y.Column(c)), $"column {x.Schema.FieldsList[c].Name}: {ValueOf(x.Column(c))} vs {ValueOf(y.Column(c))}");
        }
    }

    [Fact]
    public async Task Bound_parameters_take_the_fast_path_and_give_what_the_general_path_gives()
    {
        // What the PostgreSQL session makes of parameters: each value parenthesized, timestamps and doubles typed.
        const string rows = "((TIMESTAMPTZ '2024-05-17 10:00:00.123456+00'), ('a'), (NULL), (-3), ('2.5'::DOUBLE), (TRUE), ('{\"k\": 1}'), ('p2'), ('it''s'))";
        const string columns = "(timestamp, service, level, duration, latency, ok, attributes, project_id, trace_id)";
        var fast = f.Dml.AnalyzeInsert($"INSERT INTO events {columns} VALUES {rows}", TestCatalog.Standard(), User);
        Assert.NotNull(fast.Literals);
        var a = await RunAsync($"INSERT INTO events {columns} VALUES {rows}");
        var b = await RunAsync($"INSERT INTO events {columns} VALUES {rows}, ((TIMESTAMPTZ '2024-05-17 10:00:00+00'), ('a' || 'b'), NULL, 1, 1, true, NULL, 'p2', 'x')");
        using var fastRows = a[0].Rows;
        using var slowRows = b[0].Rows;
        var x = fastRows.Batches[0];
        var y = slowRows.Batches[0];
        Assert.Equal(x.ColumnCount, y.ColumnCount);
        for (var c = 0; c < x.ColumnCount; c++)
            Assert.True(ValueOf(x.Column(c)) == ValueOf(y.Column(c)), $"column {x.Schema.FieldsList[c].Name}: {ValueOf(x.Column(c))} vs {ValueOf(y.Column(c))}");
        // A typed literal the column's cast would treat differently stays on the general path.
        Assert.Null(f.Dml.AnalyzeInsert("INSERT INTO events (timestamp, service) VALUES (now(), (TIMESTAMPTZ '2024-05-17 10:00:00+00'))", TestCatalog.Standard(), User).Literals);
        Assert.Null(f.Dml.AnalyzeInsert("INSERT INTO events (timestamp, duration) VALUES (now(), ('2.5'::DOUBLE))", TestCatalog.Standard(), User).Literals);
    }

    private static string? ValueOf(IArrowArray array) => array switch
    {
        _ when array.IsNull(0) => null,
        StringArray s => s.GetString(0),
        Int64Array i => i.GetValue(0).ToString(),
        DoubleArray d => d.GetValue(0)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        BooleanArray b => b.GetValue(0).ToString(),
        TimestampArray t => t.GetValue(0).ToString(),
        _ => array.GetType().Name,
    };

    [Theory]
    [InlineData("INSERT INTO events (service, project_id) VALUES ('x', 'p3')", SqlState.InsufficientPrivilege)]
    [InlineData("INSERT INTO events (service) VALUES ('x'", SqlState.SyntaxError)]
    [InlineData("INSERT INTO events (service, level) VALUES ('x')", SqlState.SyntaxError)]
    [InlineData("INSERT INTO events (service) VALUES ('x', 'y')", SqlState.SyntaxError)]
    [InlineData("INSERT INTO nope (service) VALUES ('x')", SqlState.UndefinedTable)]
    public void Literal_rows_are_refused_as_before(string sql, string state)
    {
        var e = Assert.Throws<SqlPlanningException>(() => f.Dml.AnalyzeInsert(sql, TestCatalog.Standard(), User));
        Assert.True(state == e.SqlState, $"{sql}: {e.SqlState} {e.Message}");
    }
}
