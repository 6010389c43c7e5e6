using System.Diagnostics;
using Npgsql;

namespace TimeFusion.Tests.Abuse;

/// <summary>One real server shared by the hostile-tenant tests (it starts once per class).</summary>
public sealed class HostileTenantFixture : IAsyncLifetime
{
    /// <summary>The server.</summary>
    public AbuseSilo Silo { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Silo = await AbuseSilo.StartAsync();
        // One row in each tenant's project, so that runaway statements read a real table through its table grain.
        foreach (var user in new[] { "alice", "bob" })
        {
            await using var c = await Silo.ConnectAsync(user);
            await using var insert = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ('{user}-0', now(), 'INFO')", c);
            await insert.ExecuteNonQueryAsync();
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// Issue 14, findings 1, 2, 4 and 7 on a real server process: one tenant's runaway, memory-hungry or catalog-hungry
/// statements end at their timeout, cancel or disconnect, fail with 53200 inside the memory limit, and never keep
/// another tenant waiting.
/// </summary>
public sealed class HostileTenantTests(HostileTenantFixture fixture) : IClassFixture<HostileTenantFixture>
{
    private const string Runaway = "SELECT count(*) FROM otel_logs_and_spans, range(1000000000000)";
    private const string RunawayCatalog = "SELECT count(*) FROM pg_catalog.pg_class, range(1000000000000)";

    // psql's \dt.
    private const string ListTables = """
        SELECT n.nspname AS "Schema", c.relname AS "Name" FROM pg_catalog.pg_class c
        LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r','p','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema'
        ORDER BY 1, 2
        """;

    private AbuseSilo Silo => fixture.Silo;

    /// <summary>The server's error a statement ended with (Npgsql wraps it in a cancellation after a cancel request).</summary>
    private static async Task<PostgresException> ErrorOfAsync(Task run)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => run);
        return e as PostgresException ?? e.InnerException as PostgresException
            ?? throw new Xunit.Sdk.XunitException($"expected a PostgreSQL error, got {e}");
    }

    private static async Task<PostgresException> FailsAsync(NpgsqlConnection connection, string sql, int timeoutSeconds = 0)
    {
        if (timeoutSeconds > 0)
        {
            await using var set = new NpgsqlCommand($"SET statement_timeout = '{timeoutSeconds}s'", connection);
            await set.ExecuteNonQueryAsync();
        }
        await using var command = new NpgsqlCommand(sql, connection);
        return await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
    }

    /// <summary>Runs <paramref name="work"/> and returns how long it took.</summary>
    private static async Task<TimeSpan> TimeAsync(Func<Task> work)
    {
        var clock = Stopwatch.StartNew();
        await work();
        return clock.Elapsed;
    }

    /// <summary>Bob reads and writes his project; both must answer promptly.</summary>
    private async Task OtherTenantAnswersAsync(string what)
    {
        await using var bob = await Silo.ConnectAsync("bob");
        var read = await TimeAsync(async () =>
        {
            await using var q = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans", bob);
            Assert.True((long)(await q.ExecuteScalarAsync())! >= 1);
        });
        var write = await TimeAsync(async () =>
        {
            await using var i = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ('{Guid.NewGuid():N}', now(), 'INFO')", bob);
            Assert.Equal(1, await i.ExecuteNonQueryAsync());
        });
        Assert.True(read < TimeSpan.FromSeconds(10) && write < TimeSpan.FromSeconds(10),
            $"{what}: bob's SELECT took {read.TotalSeconds:F1} s and his INSERT {write.TotalSeconds:F1} s");
    }

    /// <summary>CPU the server burns over <paramref name="window"/> once the statements have ended.</summary>
    private async Task<TimeSpan> CpuOverAsync(TimeSpan window)
    {
        var before = Silo.CpuTime();
        await Task.Delay(window); // a measurement window, not a wait for a condition
        return Silo.CpuTime() - before;
    }

    [Fact]
    public async Task A_runaway_statement_ends_at_its_timeout_with_57014_and_frees_the_cpu()
    {
        await using var alice = await Silo.ConnectAsync("alice");
        var clock = Stopwatch.StartNew();
        var error = await FailsAsync(alice, Runaway, timeoutSeconds: 2);
        Assert.Equal("57014", error.SqlState);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the timeout answered after {clock.Elapsed.TotalSeconds:F1} s");
        // The engine stopped too: a runaway left running would keep at least one core busy.
        var cpu = await CpuOverAsync(TimeSpan.FromSeconds(2));
        Assert.True(cpu < TimeSpan.FromSeconds(1), $"the server used {cpu.TotalSeconds:F2} s of CPU in the 2 s after the timeout");
        await OtherTenantAnswersAsync("after the timeout");
    }

    [Fact]
    public async Task Runaway_statements_of_one_tenant_leave_another_prompt_and_a_cancel_request_stops_them()
    {
        var connections = new List<NpgsqlConnection>();
        var commands = new List<NpgsqlCommand>();
        var runs = new List<Task<PostgresException>>();
        try
        {
            // One more runaway than alice has slots: the extra one queues (or fails with 53400), never another tenant.
            for (var i = 0; i < AbuseSilo.StatementsPerUser + 1; i++)
            {
                var c = await Silo.ConnectAsync("alice");
                connections.Add(c);
                var command = new NpgsqlCommand(Runaway, c);
                commands.Add(command);
                runs.Add(ErrorOfAsync(command.ExecuteScalarAsync()));
            }
            await WaitForCpuAsync();
            await OtherTenantAnswersAsync("while alice runs runaway statements");

            // Npgsql's cancel is PostgreSQL's CancelRequest on a new socket.
            foreach (var command in commands) command.Cancel();
            var errors = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.All(errors, e => Assert.Contains(e.SqlState, new[] { "57014", "53400" }));
            Assert.Contains(errors, e => e.SqlState == "57014");
            var cpu = await CpuOverAsync(TimeSpan.FromSeconds(2));
            Assert.True(cpu < TimeSpan.FromSeconds(1), $"the server used {cpu.TotalSeconds:F2} s of CPU in the 2 s after the cancel");
        }
        finally
        {
            foreach (var command in commands) await command.DisposeAsync();
            foreach (var c in connections) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_client_that_disconnects_stops_its_statement()
    {
        // psql, killed mid-statement: its socket closes under the running statement without a cancel request.
        var info = new ProcessStartInfo("psql", ["-h", "127.0.0.1", "-p", Silo.PostgresPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "alice", "-d", "timefusion", "-c", Runaway]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["PGPASSWORD"] = "pw";
        using var psql = Process.Start(info)!;
        try
        {
            await WaitForCpuAsync();
        }
        finally
        {
            psql.Kill();
            await psql.WaitForExitAsync();
        }
        await PollAsync(async () => await CpuOverAsync(TimeSpan.FromSeconds(1)) < TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(15),
            "the statement kept running after its client left");
        await OtherTenantAnswersAsync("after alice left");
    }

    [Fact]
    public async Task A_runaway_catalog_query_does_not_block_another_sessions_catalog_queries()
    {
        await using var alice = await Silo.ConnectAsync("alice");
        await using var runaway = new NpgsqlCommand(RunawayCatalog, alice);
        var run = ErrorOfAsync(runaway.ExecuteScalarAsync());
        await WaitForCpuAsync();

        await using var bob = await Silo.ConnectAsync("bob");
        var took = await TimeAsync(async () =>
        {
            await using var list = new NpgsqlCommand(ListTables, bob);
            await using var reader = await list.ExecuteReaderAsync();
            var names = new List<string>();
            while (await reader.ReadAsync()) names.Add(reader.GetString(1));
            Assert.Contains("otel_logs_and_spans", names);
        });
        Assert.True(took < TimeSpan.FromSeconds(10), $"bob's \\dt took {took.TotalSeconds:F1} s behind alice's catalog query");

        runaway.Cancel();
        var error = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("57014", error.SqlState);
    }

    [Fact]
    public void The_process_memory_cap_applies_by_default_derived_from_the_machines_memory()
    {
        // This server was started without TimeFusion:Execution:ProcessMemoryLimitBytes; the rule sees what this test
        // process sees (same machine and cgroup).
        var expected = TimeFusion.Query.Execution.ExecutionOptions.DefaultProcessMemoryLimit(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        Assert.True(expected > 0);
        Assert.Equal(expected, Silo.DataLimitBytes());
    }

    [Fact]
    public async Task A_result_over_the_statement_limit_fails_with_53200_and_the_memory_comes_back()
    {
        await using var alice = await Silo.ConnectAsync("alice");
        // About 1 GB of rows against a 64 MiB result limit.
        var error = await FailsAsync(alice, "SELECT repeat('x', 1000) || range::varchar AS s FROM range(1000000)");
        Assert.Equal("53200", error.SqlState);
        Assert.Contains("TimeFusion:Execution:MaxResultBytes", error.MessageText);
        // Read as it streams: the statement stopped at the limit instead of materializing its gigabyte first.
        var peak = Silo.StatusBytes("VmHWM");
        Assert.True(peak < (768L << 20), $"peak RSS {peak >> 20} MiB for a result capped at {AbuseSilo.MaxResultBytes >> 20} MiB");
        await OtherTenantAnswersAsync("after the oversized result");
    }

    /// <summary>Waits until the server is visibly working (the runaway statements started).</summary>
    private async Task WaitForCpuAsync() =>
        await PollAsync(async () => await CpuOverAsync(TimeSpan.FromMilliseconds(500)) > TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(20),
            "the runaway statements never started");

    private static async Task PollAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure);
        }
    }
}

/// <summary>Finding 2: SIGTERM during runaway statements ends the server within seconds (its own server: it stops it).</summary>
public sealed class ShutdownUnderLoadTests
{
    [Fact]
    public async Task Sigterm_during_runaway_statements_ends_the_process_within_seconds()
    {
        await using var silo = await AbuseSilo.StartAsync();
        var connections = new List<NpgsqlConnection>();
        var runs = new List<Task>();
        try
        {
            foreach (var user in new[] { "alice", "bob" })
            {
                var c = await silo.ConnectAsync(user);
                connections.Add(c);
                var command = new NpgsqlCommand("SELECT count(*) FROM range(1000000000000)", c);
                runs.Add(command.ExecuteScalarAsync());
            }
            var before = silo.CpuTime();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (silo.CpuTime() - before < TimeSpan.FromMilliseconds(300) && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            var clock = Stopwatch.StartNew();
            Assert.True(await silo.TerminateAsync(TimeSpan.FromSeconds(15)), $"still running 15 s after SIGTERM: {silo.LogTail()}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
            foreach (var run in runs) await Assert.ThrowsAnyAsync<Exception>(() => run);
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync();
        }
    }
}

/// <summary>
/// Finding 1: a statement whose string vectors DuckDB's memory_limit does not count fails with 53200 inside the
/// process memory cap, while another tenant reads and writes; afterwards the address space is given back (DuckDB's
/// allocator runs with retain:false and is purged), so the same user's next statement, the catalog and the other tenant
/// answer without a restart. Its own server: the test measures the process's peak.
/// </summary>
public sealed class MemoryCapTests
{
    private const string StringExplosion = "SELECT max(length(repeat('x', 3000000) || range::varchar)) FROM range(6000)";

    [Fact]
    public async Task A_string_explosion_fails_with_53200_inside_the_memory_limit_and_everything_answers_during_and_after()
    {
        await using var silo = await AbuseSilo.StartAsync(capMemory: true);
        Assert.Equal(AbuseSilo.ProcessMemoryLimitBytes, silo.DataLimitBytes());
        await using var bob = await silo.ConnectAsync("bob");
        await ExecuteAsync(bob, "INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ('bob-before', now(), 'INFO')");
        silo.ResetPeak();

        // Alice explodes strings again and again while bob reads and writes.
        using var stop = new CancellationTokenSource();
        var explosions = 0;
        var exploding = Task.Run(async () =>
        {
            do
            {
                // Npgsql gives up a connection that got 53200 (the server keeps the session; psql goes on in it).
                await using var exploder = await silo.ConnectAsync("alice");
                await using var explode = new NpgsqlCommand(StringExplosion, exploder);
                var error = await Assert.ThrowsAsync<PostgresException>(() => explode.ExecuteScalarAsync());
                Assert.Equal("53200", error.SqlState);
                Assert.Contains("TimeFusion:Execution:ProcessMemoryLimitBytes", error.MessageText);
                Assert.DoesNotContain("SET memory_limit", error.MessageText); // no DuckDB advice
                Interlocked.Increment(ref explosions);
            }
            while (!stop.IsCancellationRequested);
        });
        var written = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((Volatile.Read(ref explosions) < 3 || written < 3) && !exploding.IsCompleted && DateTime.UtcNow < deadline)
        {
            await ExecuteAsync(bob, $"INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ('bob-during-{written}', now(), 'INFO')");
            written++;
            Assert.Equal(1 + written, await CountAsync(bob, "bob-"));
        }
        stop.Cancel();
        await exploding;
        Assert.True(explosions >= 3, $"only {explosions} explosions in 60 s");

        // The resident set never passed the cap (before: the kernel's OOM killer ended the process at 21 GB).
        var peak = silo.StatusBytes("VmHWM");
        Assert.True(peak < AbuseSilo.ProcessMemoryLimitBytes, $"peak RSS {peak >> 20} MiB over the {AbuseSilo.ProcessMemoryLimitBytes >> 20} MiB limit");
        Assert.False(silo.HasExited);

        // After: the address space came back (before: it stayed at the cap and later statements got 53200 or XX000).
        var data = silo.StatusBytes("VmData");
        Assert.True(data < AbuseSilo.ProcessMemoryLimitBytes * 3 / 4, $"{data >> 20} MiB of data segment still held after the explosions");
        await using var alice = await silo.ConnectAsync("alice");
        Assert.Equal(1L, await ScalarAsync(alice, "SELECT count(*) FROM range(1)"));
        Assert.Equal(100_000L, await ScalarAsync(alice, "SELECT count(*) FROM (SELECT repeat('y', 1000) || range::varchar AS s FROM range(100000)) WHERE length(s) > 1000"));
        await using (var tables = new NpgsqlCommand("SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname <> 'pg_catalog' AND c.relname = 'otel_logs_and_spans'", alice))
            Assert.Equal("otel_logs_and_spans", await tables.ExecuteScalarAsync());
        await ExecuteAsync(bob, "INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ('bob-after', now(), 'INFO')");
        Assert.Equal(2 + written, await CountAsync(bob, "bob-"));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<long> CountAsync(NpgsqlConnection connection, string prefix) =>
        ScalarAsync(connection, $"SELECT count(*) FROM otel_logs_and_spans WHERE id LIKE '{prefix}%'");
}
