using System.Globalization;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Query.Execution;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>The pure parts: binding the table name into statement text, the top-level LIMIT, the newest-first ladder.</summary>
public sealed class BinderAndLadderTests
{
    private const string Rel = "SELECT 1 AS x";

    [Theory]
    [InlineData("SELECT * FROM events", "WITH \"events\" AS NOT MATERIALIZED (SELECT 1 AS x)\nSELECT * FROM events")]
    [InlineData("with a AS (SELECT * FROM events) SELECT * FROM a", "with \"events\" AS NOT MATERIALIZED (SELECT 1 AS x),\na AS (SELECT * FROM events) SELECT * FROM a")]
    [InlineData("WITH RECURSIVE r(i) AS (SELECT 1), b AS MATERIALIZED (SELECT 2) SELECT 3", "WITH RECURSIVE \"events\" AS NOT MATERIALIZED (SELECT 1 AS x),\nr(i) AS (SELECT 1), b AS MATERIALIZED (SELECT 2) SELECT 3")]
    [InlineData("WITH Events AS (SELECT 1) SELECT * FROM events;", "WITH \"events\" AS NOT MATERIALIZED (SELECT 1 AS x)\nSELECT * FROM (\nWITH Events AS (SELECT 1) SELECT * FROM events\n) AS \"__bound\"")]
    [InlineData("-- note\nWITH \"events\" AS (SELECT 1) SELECT 2", "WITH \"events\" AS NOT MATERIALIZED (SELECT 1 AS x)\nSELECT * FROM (\n-- note\nWITH \"events\" AS (SELECT 1) SELECT 2\n) AS \"__bound\"")]
    public void Bind_puts_the_table_first_or_wraps_when_a_CTE_has_its_name(string sql, string expected) =>
        Assert.Equal(expected, StatementBinder.Bind(sql, "events", Rel));

    [Fact]
    public void Bind_refuses_text_that_does_not_tokenize()
    {
        Assert.Equal("42601", Assert.Throws<QueryExecutionException>(() => StatementBinder.Bind("SELECT 'open", "events", Rel)).SqlState);
        Assert.Equal("42601", Assert.Throws<QueryExecutionException>(() => StatementBinder.Bind("  -- only a comment", "events", Rel)).SqlState);
    }

    [Theory]
    [InlineData("SELECT a FROM t ORDER BY timestamp DESC LIMIT 10", 10, 10)]
    [InlineData("SELECT a FROM t ORDER BY timestamp DESC LIMIT 7 OFFSET 3", 10, 7)]
    [InlineData("SELECT a FROM t ORDER BY timestamp DESC OFFSET 3 LIMIT 7", 10, 7)]
    [InlineData("SELECT a FROM (SELECT * FROM t LIMIT 4) s ORDER BY timestamp DESC LIMIT 10", 10, 10)]
    [InlineData("SELECT a FROM t ORDER BY timestamp DESC LIMIT (7)", 10, 10)]
    [InlineData("SELECT a FROM t ORDER BY timestamp DESC LIMIT 9 OFFSET 3", 10, 10)]
    public void The_top_level_limit_is_found_or_the_total_is_assumed(string sql, long total, long expected) =>
        Assert.Equal(expected, StatementBinder.TopLevelLimit(sql, total));

    private static AddFile File(string name, long minMicros, long maxMicros, long rows) => new()
    {
        Path = name,
        Stats = new DeltaFileStats
        {
            NumRecords = rows,
            MinValues = new Dictionary<string, DeltaStatValue> { ["timestamp"] = DeltaStatValue.FromString(Iso(minMicros)) },
            MaxValues = new Dictionary<string, DeltaStatValue> { ["timestamp"] = DeltaStatValue.FromString(Iso(maxMicros)) },
        }.ToJson(),
    };

    private static string Iso(long micros) => DateTime.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private const long Hour = 3_600_000_000;

    [Fact]
    public void The_ladder_reads_the_newest_files_down_to_the_cutoff_then_everything()
    {
        // Ten hourly files of 100 rows; file 9 is the newest. File "late" overlaps the two newest hours.
        var files = Enumerable.Range(0, 10).Select(i => File($"f{i}", i * Hour, (i + 1) * Hour - 1000, 100)).ToList();
        files.Add(File("late", 2 * Hour, 9 * Hour + 10, 5));
        var options = new ExecutionOptions { NewestFirstInitialFactor = 2, NewestFirstGrowth = 4, NewestFirstMaxAttempts = 2 };
        var attempts = NewestFirstPlan.Attempts(files, 50, options);
        Assert.Equal(3, attempts.Count);
        // First: 100 rows of f9 reach 2 x 50, so the cutoff is f9's minimum; "late" reaches past it and is read too
        // (maxima are widened by 999 µs for writers that truncate statistics, so f8 ending 1 ms before stays out).
        Assert.Equal(9 * Hour, attempts[0].CutoffMicros);
        Assert.Equal(["f9", "late"], attempts[0].Files.Select(f => f.Path));
        // Second: 400 rows lie wholly after f6's minimum (f9..f6); "late" starts too early to count but is read.
        Assert.Equal(6 * Hour, attempts[1].CutoffMicros);
        Assert.Equal(["f9", "late", "f8", "f7", "f6"], attempts[1].Files.Select(f => f.Path));
        // Last: every file, no cutoff.
        Assert.Null(attempts[2].CutoffMicros);
        Assert.Equal(11, attempts[2].Files.Count);
    }

    [Fact]
    public void Files_without_statistics_or_a_limit_beyond_every_file_read_everything_at_once()
    {
        var files = Enumerable.Range(0, 5).Select(i => File($"f{i}", i * Hour, (i + 1) * Hour - 1, 100)).ToList();
        var options = new ExecutionOptions();
        Assert.Single(NewestFirstPlan.Attempts(files.Append(new AddFile { Path = "nostats" }).ToList(), 10, options));
        Assert.Single(NewestFirstPlan.Attempts(files, 1000, options));
        Assert.Single(NewestFirstPlan.Attempts(files, 0, options));
        Assert.Single(NewestFirstPlan.Attempts(files, 10, new ExecutionOptions { NewestFirstMaxAttempts = 0 }));
    }
}
