using System.Diagnostics;
using Npgsql;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class CancelAndTimeoutTests(PostgresServerFixture fixture)
{
    // Minutes of work for DuckDB on two cores: it only ends early when cancelled.
    private const string SlowQuery = "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3";

    [Fact]
    public async Task Cancel_request_stops_the_running_statement_with_57014()
    {
        await using var connection = await fixture.OpenAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnStarted(string sql)
        {
            if (sql.Contains("range(100000000000)"))
            {
                started.TrySetResult();
            }
        }
        fixture.Backend.StatementStarted += OnStarted;
        try
        {
            await using var cmd = new NpgsqlCommand(SlowQuery, connection);
            var stopwatch = Stopwatch.StartNew();
            var running = cmd.ExecuteScalarAsync();
            await started.Task.WaitAsync(TimeSpan.FromSeconds(20));
            cmd.Cancel();
            var e = await Assert.ThrowsAnyAsync<Exception>(() => running);
            var pg = e as PostgresException ?? e.InnerException as PostgresException;
            Assert.NotNull(pg);
            Assert.Equal(SqlState.QueryCanceled, pg.SqlState);
            Assert.Contains("user request", pg.MessageText);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"cancel took {stopwatch.Elapsed}");
        }
        finally
        {
            fixture.Backend.StatementStarted -= OnStarted;
        }
        await using var after = new NpgsqlCommand("SELECT 'still here'", connection);
        Assert.Equal("still here", await after.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Statement_timeout_cancels_with_57014_and_the_session_carries_on()
    {
        await using var connection = await fixture.OpenAsync();
        await using (var set = new NpgsqlCommand("SET statement_timeout = 300", connection))
        {
            await set.ExecuteNonQueryAsync();
        }
        var stopwatch = Stopwatch.StartNew();
        await using (var cmd = new NpgsqlCommand(SlowQuery, connection))
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteScalarAsync());
            Assert.Equal(SqlState.QueryCanceled, e.SqlState);
            Assert.Contains("statement timeout", e.MessageText);
        }
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(20));
        // The timeout applies per statement: fast ones still work, in both protocols.
        await using (var cmd = new NpgsqlCommand("SELECT 1", connection))
        {
            Assert.Equal(1, await cmd.ExecuteScalarAsync());
        }
        await using (var batch = new NpgsqlBatch(connection) { BatchCommands = { new NpgsqlBatchCommand(SlowQuery) } })
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => batch.ExecuteScalarAsync());
            Assert.Equal(SqlState.QueryCanceled, e.SqlState);
        }
        await using (var set = new NpgsqlCommand("SET statement_timeout = 0", connection))
        {
            await set.ExecuteNonQueryAsync();
        }
        await using (var cmd = new NpgsqlCommand("SELECT 2", connection))
        {
            Assert.Equal(2, await cmd.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task Client_side_cancellation_token_cancels_on_the_server()
    {
        await using var connection = await fixture.OpenAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
        await using var cmd = new NpgsqlCommand(SlowQuery, connection);
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cmd.ExecuteScalarAsync(cts.Token));
        var pg = Assert.IsType<PostgresException>(e.InnerException);
        Assert.Equal(SqlState.QueryCanceled, pg.SqlState);
        await using var after = new NpgsqlCommand("SELECT 3", connection);
        Assert.Equal(3, await after.ExecuteScalarAsync());
    }
}
