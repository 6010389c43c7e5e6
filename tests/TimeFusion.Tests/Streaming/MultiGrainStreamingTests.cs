using TimeFusion.Tests.Protocol.Postgres;
using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using TimeFusion.Tests.Abuse;

namespace TimeFusion.Tests.Streaming;

/// <summary>
/// One real server whose <c>otel_logs_and_spans</c> has rows in four projects (four table grains): per project one
/// row whose id ends in <c>-0</c> (joined with <c>range(n)</c> for large results) and a few with NULL and repeated
/// levels (for ordering).
/// </summary>
public sealed class MultiGrainSiloFixture : IAsyncLifetime
{
    /// <summary>The projects, in order.</summary>
    public static readonly string[] Projects = ["s1", "s2", "s3", "s4"];

    /// <summary>The server (MaxResultBytes 64 MiB, two statements per user).</summary>
    public AbuseSilo Silo { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        // Newest-first over 5 rows streams (two phases), so that 16 rows exercise it.
        Silo = await AbuseSilo.StartAsync(settings: new Dictionary<string, string> { ["Execution:NewestFirstGatherRows"] = "5" });
        await using var c = await Silo.ConnectAsync("timefusion");
        string[] levels = ["'INFO'", "NULL", "'WARN'", "'ERROR'", "NULL", "'INFO'"];
        foreach (var (p, i) in Projects.Select((p, i) => (p, i)))
        {
            var values = string.Join(", ", Enumerable.Range(0, 4).Select(k =>
                $"('{p}', '{p}-{k}', now() - INTERVAL '{k + i} minutes', {levels[(i + k) % levels.Length]})"));
            await using var insert = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level) VALUES {values}", c);
            Assert.Equal(4, await insert.ExecuteNonQueryAsync());
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// Issue 14 finding 7 for statements over several projects (an admin without a project predicate): each table grain
/// streams its part and the door concatenates the streams or merges them by their sort key, so a result many times
/// <c>TimeFusion:Execution:MaxResultBytes</c> reaches Npgsql in bounded memory, in order, and a cancel, timeout or
/// disconnect ends every grain's statement.
/// </summary>
public sealed class MultiGrainStreamingTests(MultiGrainSiloFixture fixture, ITestOutputHelper output) : IClassFixture<MultiGrainSiloFixture>
{
    /// <summary>
    /// Peak RSS the class's statements may reach (the server idles at a few hundred MiB; the peak is the process's over
    /// every test of the class, and garbage of merged batches is collected late on a loaded machine).
    /// </summary>
    private const long RssBound = 1024L << 20;

    /// <summary>One row per project, times <c>range(n)</c>: the project's rows in a row-wise statement over every grain.</summary>
    private const string OnePerProject = "FROM otel_logs_and_spans o, range({0}) r WHERE o.id LIKE '%-0'";

    private AbuseSilo Silo => fixture.Silo;

    [Fact]
    public async Task Rows_of_every_project_stream_concatenated_past_the_result_limit_in_bounded_memory()
    {
        const long perProject = 80_000;
        await using var admin = await Silo.ConnectAsync("timefusion");
        await using var command = new NpgsqlCommand($"SELECT o.project_id, repeat('x', 1000) || r.range::varchar AS s {string.Format(OnePerProject, perProject)}", admin);
        var rows = new Dictionary<string, long>();
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan? first = null;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                first ??= clock.Elapsed;
                var project = reader.GetString(0);
                rows[project] = rows.GetValueOrDefault(project) + 1;
                bytes += reader.GetString(1).Length;
            }
        }
        var peak = Silo.StatusBytes("VmHWM");
        output.WriteLine($"{rows.Values.Sum()} rows, {bytes >> 20} MiB in {clock.Elapsed.TotalSeconds:F1} s, first row after {first?.TotalMilliseconds:F0} ms, peak RSS {peak >> 20} MiB");
        Assert.Equal(MultiGrainSiloFixture.Projects, rows.Keys.Order(StringComparer.Ordinal));
        Assert.All(rows.Values, n => Assert.Equal(perProject, n));
        Assert.True(bytes > 4 * AbuseSilo.MaxResultBytes, $"only {bytes >> 20} MiB read");
        Assert.True(peak < RssBound, $"peak RSS {peak >> 20} MiB streaming {bytes >> 20} MiB of rows (MaxResultBytes {AbuseSilo.MaxResultBytes >> 20} MiB)");
    }

    [Fact]
    public async Task An_ordered_result_of_every_project_is_merged_in_order_past_the_result_limit()
    {
        const int perProject = 100_000;
        await using var admin = await Silo.ConnectAsync("timefusion");
        await using var command = new NpgsqlCommand(
            $"SELECT r.range AS n, o.project_id AS p, repeat('y', 200) AS pad {string.Format(OnePerProject, perProject)} ORDER BY n DESC, p", admin);
        long expectedN = perProject - 1, read = 0, bytes = 0;
        var expectedP = 0;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var n = reader.GetInt64(0);
                var p = reader.GetString(1);
                if (n != expectedN || p != MultiGrainSiloFixture.Projects[expectedP])
                    Assert.Fail($"row {read}: ({n}, {p}), expected ({expectedN}, {MultiGrainSiloFixture.Projects[expectedP]})");
                bytes += reader.GetString(2).Length;
                read++;
                if (++expectedP == MultiGrainSiloFixture.Projects.Length)
                {
                    expectedP = 0;
                    expectedN--;
                }
            }
        }
        var peak = Silo.StatusBytes("VmHWM");
        output.WriteLine($"{read} rows, {bytes >> 20} MiB merged, peak RSS {peak >> 20} MiB");
        Assert.Equal((long)perProject * MultiGrainSiloFixture.Projects.Length, read);
        Assert.True(bytes > AbuseSilo.MaxResultBytes, $"only {bytes >> 20} MiB read");
        Assert.True(peak < RssBound, $"peak RSS {peak >> 20} MiB");
    }

    [Theory]
    [InlineData("level DESC, id", "")]
    [InlineData("level NULLS FIRST, id DESC", "")]
    [InlineData("2, 1 DESC", "LIMIT 7 OFFSET 3")]
    [InlineData("lower(level) DESC NULLS LAST, id", "LIMIT 5")]
    [InlineData("level, id", "OFFSET 14")]
    public async Task Merged_order_limit_and_offset_equal_the_gathered_answer(string orderBy, string limit)
    {
        await using var admin = await Silo.ConnectAsync("timefusion");
        // The CTE keeps the same statement gathered at the gateway (the table is not read by the top SELECT).
        var streamed = await RowsAsync(admin, $"SELECT id, level FROM otel_logs_and_spans ORDER BY {orderBy} {limit}");
        var gathered = await RowsAsync(admin, $"WITH x AS (SELECT id, level FROM otel_logs_and_spans) SELECT id, level FROM x ORDER BY {orderBy} {limit}");
        Assert.NotEmpty(gathered);
        Assert.Equal(gathered, streamed);
    }

    [Fact]
    public async Task A_short_sort_key_merges_as_a_bigint()
    {
        // create_sort_key answers a BIGINT for keys of up to 8 bytes (an INTEGER, a DATE) and a BLOB beyond.
        await using var admin = await Silo.ConnectAsync("timefusion");
        var streamed = new List<int>();
        await using (var command = new NpgsqlCommand($"SELECT CAST(r.range AS INTEGER) AS n, o.project_id {string.Format(OnePerProject, 5000)} ORDER BY n DESC", admin))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) streamed.Add(reader.GetInt32(0));
        }
        Assert.Equal(Enumerable.Range(0, 5000).Reverse().SelectMany(n => Enumerable.Repeat(n, MultiGrainSiloFixture.Projects.Length)), streamed);
        var dates = await RowsAsync(admin, "SELECT timestamp::date::text AS d, '' FROM otel_logs_and_spans ORDER BY timestamp::date DESC LIMIT 9");
        var gathered = await RowsAsync(admin, "WITH x AS (SELECT timestamp FROM otel_logs_and_spans) SELECT timestamp::date::text AS d, '' FROM x ORDER BY timestamp::date DESC LIMIT 9");
        Assert.Equal(9, dates.Count);
        Assert.Equal(gathered, dates);
    }

    [Fact]
    public async Task A_cancel_request_or_a_timeout_mid_stream_ends_every_grains_statement()
    {
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            await using var admin = await Silo.ConnectAsync("timefusion");
            // Concatenated: rows flow; the client cancels after a thousand.
            await using var command = new NpgsqlCommand($"SELECT o.project_id, r.range AS n {string.Format(OnePerProject, 1_000_000_000_000)}", admin);
            var thrown = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var reader = await command.ExecuteReaderAsync();
                for (var n = 0; await reader.ReadAsync(); n++)
                {
                    if (n == 1000) command.Cancel();
                }
            });
            Assert.Equal("57014", (thrown as PostgresException ?? Assert.IsType<PostgresException>(thrown.InnerException)).SqlState);

            // Merged: every grain computes its top rows of an endless input until the statement timeout.
            await using (var timeout = new NpgsqlCommand("SET statement_timeout = '2s'", admin)) await timeout.ExecuteNonQueryAsync();
            await using var merged = new NpgsqlCommand($"SELECT r.range AS n, o.project_id {string.Format(OnePerProject, 1_000_000_000_000)} ORDER BY n DESC LIMIT 3", admin);
            var timedOut = await Assert.ThrowsAsync<PostgresException>(async () => await merged.ExecuteScalarAsync());
            Assert.Equal("57014", timedOut.SqlState);
        }
        await ServerGoesIdleAsync();
        await AdminAnswersAsync();
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_ends_every_grains_statement()
    {
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            using var psql = Psql($"\\copy (SELECT r.range AS n, o.project_id {string.Format(OnePerProject, 1_000_000_000_000)}) TO STDOUT");
            for (var n = 0; n < 1000; n++)
                Assert.NotNull(await psql.StandardOutput.ReadLineAsync());
            psql.Kill();
            await psql.WaitForExitAsync();
        }
        await ServerGoesIdleAsync();
        await AdminAnswersAsync();
    }

    /// <summary>The server's CPU falls idle (less than a quarter core over a second) once no statement runs on any grain.</summary>
    private async Task ServerGoesIdleAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var before = Silo.CpuTime();
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(1)); // the sampling window of the measurement, not a wait for a condition
            var used = Silo.CpuTime() - before;
            if (used < window.Elapsed / 4)
            {
                output.WriteLine($"idle after {deadline.Elapsed.TotalSeconds:F1} s");
                return;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30),
                $"the server still used {used.TotalMilliseconds:F0} ms of CPU a second {deadline.Elapsed.TotalSeconds:F0} s after the statements ended");
        }
    }

    /// <summary>The admin's next statements: each waits for one of two slots (53400 after 10 s if one were still held).</summary>
    private async Task AdminAnswersAsync()
    {
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            await using var admin = await Silo.ConnectAsync("timefusion");
            await using var count = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans", admin);
            Assert.Equal(4L * MultiGrainSiloFixture.Projects.Length, Convert.ToInt64(await count.ExecuteScalarAsync()));
        }
    }

    [Fact]
    public async Task A_newest_first_limit_over_the_gather_threshold_answers_as_the_gathered_statement()
    {
        // LIMIT + OFFSET over NewestFirstGatherRows (the fixture's 5): two phases (each grain's top sort keys, the
        // cutoff, each grain's rows up to it), against the same statement gathered at the gateway (a CTE).
        await using var admin = await Silo.ConnectAsync("timefusion");
        foreach (var (limit, offset) in new[] { (7, 3), (6, 0), (12, 4), (40, 0) })
        {
            var streamed = await RowsAsync(admin, $"SELECT timestamp::text AS t, id FROM otel_logs_and_spans ORDER BY timestamp DESC LIMIT {limit} OFFSET {offset}");
            var gathered = await RowsAsync(admin, $"WITH x AS (SELECT timestamp, id FROM otel_logs_and_spans) SELECT timestamp::text AS t, id FROM x ORDER BY timestamp DESC LIMIT {limit} OFFSET {offset}");
            Assert.Equal(Math.Min(limit, 16 - offset), streamed.Count);
            Assert.Equal(gathered.Select(r => r.Split('|')[0]), streamed.Select(r => r.Split('|')[0]));
            Assert.Equal(gathered.Order(StringComparer.Ordinal), streamed.Order(StringComparer.Ordinal));
        }
    }

    private static async Task<List<string>> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add($"{reader.GetString(0)}|{(reader.IsDBNull(1) ? "NULL" : reader.GetString(1))}");
        return rows;
    }

    private Process Psql(string command) => PsqlRunner.Start(Silo.PostgresPort, "timefusion", "timefusion", "timefusion", "-q", "-c", command);
}
