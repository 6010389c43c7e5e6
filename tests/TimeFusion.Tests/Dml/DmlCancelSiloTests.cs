using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using TimeFusion.Tests.Abuse;

namespace TimeFusion.Tests.Dml;

/// <summary>One real server for the DML cancellation tests (each test uses a project of its own).</summary>
public sealed class DmlCancelSiloFixture : IAsyncLifetime
{
    /// <summary>The server.</summary>
    public AbuseSilo Silo { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => Silo = await AbuseSilo.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// Issue 14 finding 2 for writes, end to end: a slow DELETE or UPDATE stopped by its statement timeout or a cancel
/// request answers 57014, its table grain stops working on it (the next write to the same table is taken at once),
/// and nothing of it is applied — for rows still buffered and rows already in Delta files.
/// </summary>
public sealed class DmlCancelSiloTests(DmlCancelSiloFixture fixture, ITestOutputHelper output) : IClassFixture<DmlCancelSiloFixture>
{
    private const int Rows = 30_000;

    // levenshtein over two ~400-character strings per row: many seconds over the table unless interrupted.
    private const string Slow = "levenshtein(repeat(id, 60), repeat(reverse(id), 60)) >= 0";

    private AbuseSilo Silo => fixture.Silo;

    [Theory]
    [InlineData("DELETE", false, false)]
    [InlineData("DELETE", true, true)]
    [InlineData("UPDATE", false, true)]
    [InlineData("UPDATE", true, false)]
    public async Task A_cancelled_slow_write_stops_on_its_grain_and_applies_nothing(string kind, bool flushed, bool cancelRequest)
    {
        var project = $"dml_{kind.ToLowerInvariant()}_{(flushed ? "f" : "b")}_{(cancelRequest ? "c" : "t")}";
        await using var admin = await Silo.ConnectAsync("timefusion");
        await LoadAsync(admin, project, flushed);

        var baseline = Stopwatch.StartNew();
        await using (var first = new NpgsqlCommand($"DELETE FROM otel_logs_and_spans WHERE project_id = '{project}' AND id = '{project}-2'", admin))
            Assert.Equal(1, await first.ExecuteNonQueryAsync());
        output.WriteLine($"a one-row DELETE alone took {baseline.Elapsed.TotalSeconds:F1} s");
        var write = kind == "DELETE"
            ? $"DELETE FROM otel_logs_and_spans WHERE project_id = '{project}' AND {Slow}"
            : $"UPDATE otel_logs_and_spans SET level = 'CHANGED' WHERE project_id = '{project}' AND {Slow}";
        var clock = Stopwatch.StartNew();
        if (cancelRequest)
        {
            await using var command = new NpgsqlCommand(write, admin);
            var running = command.ExecuteNonQueryAsync();
            // A cancel request a second into the write (as a user pressing Ctrl-C).
            await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(1)));
            command.Cancel();
            var thrown = await Assert.ThrowsAnyAsync<Exception>(() => running);
            Assert.Equal("57014", (thrown as PostgresException ?? Assert.IsType<PostgresException>(thrown.InnerException)).SqlState);
        }
        else
        {
            await using (var timeout = new NpgsqlCommand("SET statement_timeout = '1s'", admin)) await timeout.ExecuteNonQueryAsync();
            await using var command = new NpgsqlCommand(write, admin);
            var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Equal("57014", error.SqlState);
            await using var reset = new NpgsqlCommand("SET statement_timeout = 0", admin);
            await reset.ExecuteNonQueryAsync();
        }
        var cancelled = clock.Elapsed;

        // The next write to the same table waits for the first to let go of it: it must be taken at once.
        await using var next = new NpgsqlCommand($"DELETE FROM otel_logs_and_spans WHERE project_id = '{project}' AND id = '{project}-1'", admin);
        Assert.Equal(1, await next.ExecuteNonQueryAsync());
        var free = clock.Elapsed - cancelled;
        output.WriteLine($"{kind} ({(flushed ? "flushed" : "buffered")}) answered 57014 after {cancelled.TotalSeconds:F1} s; the next write took {free.TotalSeconds:F1} s");
        Assert.True(free < TimeSpan.FromSeconds(5), $"the next write to the table waited {free.TotalSeconds:F1} s for the cancelled {kind}");

        // All or nothing: nothing of the cancelled write is there.
        await using var count = new NpgsqlCommand(
            $"SELECT count(*), count(*) FILTER (WHERE level = 'CHANGED') FROM otel_logs_and_spans WHERE project_id = '{project}'", admin);
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(Rows - 2, reader.GetInt64(0));
        Assert.Equal(0, reader.GetInt64(1));
    }

    /// <summary>
    /// The project's rows: buffered (INSERT … VALUES lands in the table's buffer) or flushed (COPY commits Delta files).
    /// </summary>
    private static async Task LoadAsync(NpgsqlConnection admin, string project, bool flushed)
    {
        if (flushed)
        {
            await using var writer = await admin.BeginTextImportAsync("COPY otel_logs_and_spans (project_id, id, timestamp, level) FROM STDIN");
            for (var i = 0; i < Rows; i++)
                await writer.WriteLineAsync($"{project}\t{project}-{i}\t2026-01-01 00:00:{i % 60:00}+00\tINFO");
            return;
        }
        const int perStatement = 10_000;
        for (var start = 0; start < Rows; start += perStatement)
        {
            var values = string.Join(", ", Enumerable.Range(start, perStatement).Select(i => $"('{project}', '{project}-{i}', TIMESTAMPTZ '2026-01-01 00:00:{i % 60:00}+00', 'INFO')"));
            await using var insert = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level) VALUES {values}", admin);
            Assert.Equal(perStatement, await insert.ExecuteNonQueryAsync());
        }
        await using var status = new NpgsqlCommand($"SELECT sum(buffered_rows) FROM timefusion.tables WHERE project_id = '{project}'", admin);
        Assert.Equal(Rows, Convert.ToInt64(await status.ExecuteScalarAsync()));
    }
}
