using Apache.Arrow;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Query.Planning;

/// <summary>
/// The two-phase form of a sorted, limited statement over several grains (issue 14: a newest-first LIMIT over 16
/// grains ran out of DuckDB's memory with every grain sorting n wide rows): each grain's top LIMIT + OFFSET sort keys
/// (<see cref="StreamedPlan.TopKeysSql"/>), the cutoff over them all (<see cref="SortKeyCutoff"/>), then each grain's rows
/// up to the cutoff (<see cref="StreamedPlan.WithCutoff"/>) merged at the door. Differential: the answer equals the
/// statement over the union of the grains (ties and OFFSET included), and the grains together return only the rows up
/// to the cutoff instead of LIMIT + OFFSET each.
/// </summary>
[Collection(PlanningCollection.Name)]
public sealed class SortKeyCutoffTests(PlanningFixture f, FanOutDatabase db) : IClassFixture<FanOutDatabase>
{
    /// <summary>Statement, number of leading output columns that are its ORDER BY terms.</summary>
    public static TheoryData<string, int> SortedAndLimited => new()
    {
        { "SELECT timestamp, service, trace_id FROM events ORDER BY timestamp DESC LIMIT 500", 1 }, // newest-first
        { "SELECT timestamp, service FROM events ORDER BY timestamp DESC LIMIT 700 OFFSET 333", 1 },
        { "SELECT timestamp, service FROM events WHERE status >= 400 ORDER BY timestamp DESC LIMIT 300 OFFSET 20", 1 },
        { "SELECT status, service FROM events ORDER BY status DESC LIMIT 1000 OFFSET 7", 1 }, // many ties on the cutoff
        { "SELECT level, duration, trace_id FROM events ORDER BY level NULLS FIRST, duration DESC LIMIT 250 OFFSET 3", 2 }, // BLOB keys
        { "SELECT timestamp FROM otel_logs_and_spans ORDER BY timestamp DESC LIMIT 100", 1 },
        { "SELECT timestamp, service FROM events ORDER BY timestamp DESC LIMIT 100000", 1 }, // more than all rows: no cutoff
    };

    [Theory]
    [MemberData(nameof(SortedAndLimited))]
    public void The_rows_up_to_the_cutoff_merged_equal_the_statement_over_the_union(string sql, int sortColumns)
    {
        var plan = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.Admin());
        var stream = plan.Stream ?? throw new Xunit.Sdk.XunitException($"{sql}: no stream ({plan.FallbackReason})");
        Assert.NotNull(stream.TopKeysSql);
        Assert.NotNull(stream.CutoffSqlTemplate);
        var rank = stream.Limit!.Value + stream.Offset;

        // Phase one: every grain's top keys, narrow.
        var keys = new List<RecordBatch>();
        foreach (var p in FanOutDatabase.Projects)
        {
            var rows = InGrain(p, () => db.Query(stream.TopKeysSql!));
            Assert.True(rows.Count <= rank);
            Assert.All(rows, r => Assert.Single(r));
            keys.Add(KeyBatch(rows.Select(r => r[0]).ToList()));
        }
        var cutoff = SortKeyCutoff.Find(keys, rank);
        var keyCount = keys.Sum(k => k.Length);
        Assert.Equal(keyCount >= rank, cutoff is not null);
        var grainSql = cutoff is null ? stream.GrainSql : stream.WithCutoff(cutoff);

        // Phase two: each grain's rows up to the cutoff, merged by the key as the door does.
        db.Execute("DROP TABLE IF EXISTS gw.main.__cut");
        var perGrain = new List<long>();
        try
        {
            InGrain("p1", () => db.Execute($"CREATE TABLE gw.main.__cut AS SELECT * FROM ({grainSql}) AS q LIMIT 0"));
            foreach (var p in FanOutDatabase.Projects)
            {
                var before = Convert.ToInt64(db.Query("SELECT count(*) FROM gw.main.__cut")[0][0]);
                InGrain(p, () => db.Execute($"INSERT INTO gw.main.__cut {grainSql}"));
                perGrain.Add(Convert.ToInt64(db.Query("SELECT count(*) FROM gw.main.__cut")[0][0]) - before);
            }
        }
        finally
        {
            db.Execute("USE gw");
        }
        if (cutoff is not null)
        {
            // The grains return only what phase one counted up to the cutoff: at most LIMIT + OFFSET plus the ties on it,
            // where each grain alone would return LIMIT + OFFSET.
            Assert.Equal(db.Query($"SELECT count(*) FROM gw.main.__cut WHERE {StreamSplitter.SortKeyColumn} <= {cutoff}")[0][0], db.Query("SELECT count(*) FROM gw.main.__cut")[0][0]);
            var tiesOnCutoff = Convert.ToInt64(db.Query($"SELECT count(*) FROM gw.main.__cut WHERE {StreamSplitter.SortKeyColumn} = {cutoff}")[0][0]);
            Assert.True(perGrain.Sum() <= rank - 1 + tiesOnCutoff, $"{perGrain.Sum()} rows for LIMIT + OFFSET {rank} with {tiesOnCutoff} ties");
        }
        var actual = db.Query($"SELECT * EXCLUDE ({StreamSplitter.SortKeyColumn}) FROM __cut ORDER BY {StreamSplitter.SortKeyColumn} LIMIT {stream.Limit} OFFSET {stream.Offset}");
        var expected = InGrain("all", () => db.Query(sql));
        Assert.Equal(expected.Count, actual.Count);
        // The ORDER BY terms in order; rows tied on all of them may come in either order.
        FanOutEquivalenceTests.AssertSameRows(expected.Select(r => r[..sortColumns]).ToList(), actual.Select(r => r[..sortColumns]).ToList(), ordered: true, sql);
        if (sortColumns == 1 && sql.Contains("ORDER BY timestamp", StringComparison.Ordinal))
            FanOutEquivalenceTests.AssertSameRows(expected, actual, ordered: false, sql); // timestamps are distinct: the same rows
    }

    [Fact]
    public void A_newest_first_statement_gets_both_phases()
    {
        // The shape MultiGrainStreamingTests runs end to end on a real silo.
        var plan = f.Analyzer.Analyze("SELECT timestamp::text AS t, id FROM otel_logs_and_spans ORDER BY timestamp DESC LIMIT 7 OFFSET 3",
            TestCatalog.Standard(), CallerScope.Admin());
        Assert.Equal(10, plan.NewestFirstLimit);
        Assert.NotNull(plan.Stream?.TopKeysSql);
        Assert.NotNull(plan.Stream?.CutoffSqlTemplate);
    }

    [Fact]
    public void The_cutoff_is_the_rank_th_smallest_key_over_every_grain_ties_included()
    {
        var keys = new[] { KeyBatch([5L, 7L, 7L, 9L]), KeyBatch([1L, 7L, 8L]), KeyBatch([]) };
        Assert.Equal("CAST(1 AS BIGINT)", SortKeyCutoff.Find(keys, 1));
        Assert.Equal("CAST(7 AS BIGINT)", SortKeyCutoff.Find(keys, 3));
        Assert.Equal("CAST(7 AS BIGINT)", SortKeyCutoff.Find(keys, 5));
        Assert.Equal("CAST(9 AS BIGINT)", SortKeyCutoff.Find(keys, 7));
        Assert.Null(SortKeyCutoff.Find(keys, 8));
        var blobs = new[] { KeyBatch([new byte[] { 0x80, 0x01 }, new byte[] { 0x00 }]), KeyBatch([new byte[] { 0x80 }]) };
        Assert.Equal("CAST('\\x80' AS BLOB)", SortKeyCutoff.Find(blobs, 2));
        Assert.Equal("CAST('\\x80\\x01' AS BLOB)", SortKeyCutoff.Find(blobs, 3));
    }

    private T InGrain<T>(string project, Func<T> work)
    {
        db.Execute("USE g_" + project);
        try
        {
            return work();
        }
        finally
        {
            db.Execute("USE gw");
        }
    }

    private static byte[] ReadAll(Stream s)
    {
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }

    private void InGrain(string project, Action work) => InGrain(project, () => { work(); return 0; });

    private static RecordBatch KeyBatch(IReadOnlyList<object?> values)
    {
        // DuckDB.NET reads a BLOB as a stream.
        values = values.Select(v => v is Stream s ? ReadAll(s) : v).ToList();
        IArrowArray column;
        if (values.Count > 0 && values[0] is byte[])
        {
            var b = new BinaryArray.Builder();
            foreach (var v in values) b.Append(((byte[])v!).AsSpan());
            column = b.Build();
        }
        else
        {
            var b = new Int64Array.Builder();
            foreach (var v in values) b.Append(Convert.ToInt64(v));
            column = b.Build();
        }
        return new RecordBatch(new Schema([new Field("k", column.Data.DataType, true)], null), [column], values.Count);
    }
}
