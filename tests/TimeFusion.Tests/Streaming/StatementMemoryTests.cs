using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using TimeFusion.Tests.Abuse;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Streaming;

/// <summary>
/// One real server with a per-statement memory limit (<c>TimeFusion:Execution:StatementMemoryBytes</c>, 48 MiB) whose
/// <c>otel_logs_and_spans</c> has 1,500 rows in each of sixteen projects (sixteen table grains), each row with its own
/// timestamp: row k of project i is <c>(k × 16 + i)</c> ms older than the newest, and its id is <c>qII-KKKKK</c>.
/// </summary>
public sealed class StatementMemorySiloFixture : IAsyncLifetime
{
    /// <summary>The statement memory limit.</summary>
    public const long StatementMemoryBytes = 48L << 20;

    /// <summary>Rows per project.</summary>
    public const int RowsPerProject = 1500;

    /// <summary>The projects, in order.</summary>
    public static readonly string[] Projects = Enumerable.Range(1, 16).Select(i => $"q{i:D2}").ToArray();

    /// <summary>The server.</summary>
    public AbuseSilo Silo { get; private set; } = null!;

    /// <summary>Ids newest first.</summary>
    public static IEnumerable<string> IdsNewestFirst() =>
        Enumerable.Range(0, RowsPerProject).SelectMany(k => Projects.Select(p => $"{p}-{k:D5}"));

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Silo = await AbuseSilo.StartAsync(settings: new Dictionary<string, string>
        {
            ["Execution:StatementMemoryBytes"] = StatementMemoryBytes.ToString(CultureInfo.InvariantCulture),
        });
        await using var c = await Silo.ConnectAsync("timefusion");
        var newest = DateTime.UtcNow.AddMinutes(-1);
        foreach (var (p, i) in Projects.Select((p, i) => (p, i)))
        {
            var sql = new StringBuilder("INSERT INTO otel_logs_and_spans (project_id, id, timestamp) VALUES ");
            for (var k = 0; k < RowsPerProject; k++)
            {
                var ts = newest.AddMilliseconds(-(k * Projects.Length + i));
                sql.Append(k == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"('{p}', '{p}-{k:D5}', '{ts:yyyy-MM-dd HH:mm:ss.ffffff}+00')");
            }
            await using var insert = new NpgsqlCommand(sql.ToString(), c);
            Assert.Equal(RowsPerProject, await insert.ExecuteNonQueryAsync());
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// Issue 14 "every statement is bounded" on a real server: results gathered at the gateway (partial aggregates,
/// newest-first tops) count against <c>TimeFusion:Execution:StatementMemoryBytes</c> and fail with 53200 naming it,
/// freeing everything (the user's statement slots stay usable, other users keep working); newest-first with a large
/// LIMIT and sorted statements over sixteen grains stream through the door's k-way merge in bounded memory instead.
/// </summary>
public sealed class StatementMemoryTests(StatementMemorySiloFixture fixture, ITestOutputHelper output) : IClassFixture<StatementMemorySiloFixture>
{
    /// <summary>
    /// How far the server's peak resident set may rise during a test over its resident set when the test began (each
    /// reads ~100 MiB of rows, more than the statement limit; garbage of merged batches is collected late on a loaded
    /// machine).
    /// </summary>
    private const long RssGrowthBound = 640L << 20;

    /// <summary>About 4.5 KB a row (the id repeated 500 times): ~100 MiB over every row, twice the statement limit.</summary>
    private const string Pad = "repeat(id, 500)";

    private readonly long _rssAtStart = StartMeasuring(fixture.Silo);

    private AbuseSilo Silo => fixture.Silo;

    private static long StartMeasuring(AbuseSilo silo)
    {
        silo.ResetPeak();
        return silo.StatusBytes("VmRSS");
    }

    [Fact]
    public async Task Gathered_partial_aggregates_over_the_limit_fail_with_53200_naming_the_setting_and_free_everything()
    {
        // Each grain's partials (one group per row, ~2.7 KB each, ~4 MB a grain) are small; together (~65 MB) they are
        // over the limit.
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            await using var admin = await Silo.ConnectAsync("timefusion");
            await using var command = new NpgsqlCommand("SELECT id, max(repeat(id, 300)) AS m FROM otel_logs_and_spans GROUP BY id", admin);
            var e = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync()) { }
            });
            Assert.Equal("53200", e.SqlState);
            Assert.Contains("TimeFusion:Execution:StatementMemoryBytes", e.MessageText);
            Assert.DoesNotContain("/", e.MessageText); // no grain key
            // Npgsql drops a connection on any class-53 error (as it would with PostgreSQL); the server goes on.
            await using var next = await Silo.ConnectAsync("timefusion");
            await using var count = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans", next);
            Assert.Equal((long)StatementMemorySiloFixture.RowsPerProject * StatementMemorySiloFixture.Projects.Length, Convert.ToInt64(await count.ExecuteScalarAsync()));
        }
        // Another user's statement answers (alice reads her own, empty project).
        await using var alice = await Silo.ConnectAsync("alice");
        await using (var own = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans", alice))
            Assert.Equal(0L, Convert.ToInt64(await own.ExecuteScalarAsync()));
        // An aggregate whose partials fit answers.
        await using var again = await Silo.ConnectAsync("timefusion");
        await using var small = new NpgsqlCommand("SELECT project_id, max(length(id)) FROM otel_logs_and_spans GROUP BY project_id", again);
        var groups = 0;
        await using (var reader = await small.ExecuteReaderAsync())
            while (await reader.ReadAsync()) groups++;
        Assert.Equal(StatementMemorySiloFixture.Projects.Length, groups);
        AssertRssBounded("aggregates");
    }

    [Fact]
    public async Task Newest_first_with_a_small_limit_is_gathered_and_with_a_large_one_streams_past_the_limit()
    {
        await using var admin = await Silo.ConnectAsync("timefusion");
        var expected = StatementMemorySiloFixture.IdsNewestFirst().ToList();
        // Small LIMIT: each grain's newest rows, gathered and merged at the gateway.
        Assert.Equal(expected.Skip(3).Take(20), await IdsAsync(admin, "SELECT id FROM otel_logs_and_spans ORDER BY timestamp DESC LIMIT 20 OFFSET 3"));

        // Large LIMIT with ~4.5 KB rows: every row (~100 MiB) would be gathered; the k-way merge streams them.
        const int limit = 20_000;
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        var ids = new List<string>();
        await using (var command = new NpgsqlCommand($"SELECT id, {Pad} AS pad FROM otel_logs_and_spans ORDER BY timestamp DESC LIMIT {limit} OFFSET 5", admin))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetString(0));
                bytes += reader.GetString(1).Length;
            }
        }
        output.WriteLine($"newest-first LIMIT {limit}: {ids.Count} rows, {bytes >> 20} MiB in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(bytes > StatementMemorySiloFixture.StatementMemoryBytes, $"only {bytes >> 20} MiB read");
        Assert.Equal(expected.Skip(5).Take(limit), ids);
        AssertRssBounded("newest-first");
    }

    [Fact]
    public async Task A_sorted_merge_of_sixteen_grains_streams_past_the_limit_in_order_and_in_bounded_memory()
    {
        await using var admin = await Silo.ConnectAsync("timefusion");
        var ids = new List<string>();
        long bytes = 0;
        await using (var command = new NpgsqlCommand($"SELECT id, {Pad} AS pad FROM otel_logs_and_spans ORDER BY id DESC", admin))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetString(0));
                bytes += reader.GetString(1).Length;
            }
        }
        output.WriteLine($"sorted merge: {ids.Count} rows, {bytes >> 20} MiB");
        Assert.True(bytes > StatementMemorySiloFixture.StatementMemoryBytes, $"only {bytes >> 20} MiB read");
        Assert.Equal(StatementMemorySiloFixture.IdsNewestFirst().Order(StringComparer.Ordinal).Reverse(), ids);
        AssertRssBounded("sorted merge");
    }

    [Fact]
    public async Task A_sorted_merge_whose_rows_do_not_fit_a_batch_per_grain_fails_with_53200_and_ends_every_grains_statement()
    {
        // One ~4.5 MB row per grain: sixteen of them at once are over the 48 MiB limit.
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            await using var admin = await Silo.ConnectAsync("timefusion");
            await using var command = new NpgsqlCommand(
                "SELECT id, repeat(id, 500000) AS pad FROM otel_logs_and_spans WHERE id LIKE '%-00001' ORDER BY id", admin);
            var e = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync()) { }
            });
            Assert.Equal("53200", e.SqlState);
            Assert.Contains("TimeFusion:Execution:StatementMemoryBytes", e.MessageText);
        }
        // Every slot was given back: the admin's next statements run.
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            await using var admin = await Silo.ConnectAsync("timefusion");
            Assert.Equal(["q01-00001", "q02-00001"], await IdsAsync(admin, "SELECT id FROM otel_logs_and_spans WHERE id LIKE '%-00001' ORDER BY id LIMIT 2"));
        }
        // Not bounded as tightly: each of those rows is copied a few times on its way (DuckDB, IPC, Orleans), and
        // sixteen grains do so at once; printed only.
        output.WriteLine($"merge over the limit: RSS at start {_rssAtStart >> 20} MiB, peak {Silo.StatusBytes("VmHWM") >> 20} MiB");
    }

    private void AssertRssBounded(string what)
    {
        var peak = Silo.StatusBytes("VmHWM");
        var growth = peak - _rssAtStart;
        output.WriteLine($"{what}: RSS at start {_rssAtStart >> 20} MiB, peak {peak >> 20} MiB (+{growth >> 20} MiB)");
        Assert.True(growth < RssGrowthBound, $"peak RSS {peak >> 20} MiB, {growth >> 20} MiB over {_rssAtStart >> 20} MiB when the test began");
    }

    private static async Task<List<string>> IdsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }
}
