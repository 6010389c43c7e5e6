using Npgsql;
using TimeFusion.Tests.Sql;

namespace TimeFusion.Tests.Drivers;

/// <summary>
/// pg_stat_activity (this silo's connections: the caller's own, every one for an admin) and pg_cancel_backend (the
/// CancelRequest path), over Npgsql against the real silo.
/// </summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class PgStatActivityTests(SqlSurfaceFixture fixture)
{
    // Runs until cancelled: a gateway-only query DuckDB interrupts when the statement's token fires.
    private const string Endless = "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3";

    private Task<NpgsqlConnection> OpenAsync(string user, string password, string application) =>
        fixture.Silo.OpenAsync(user, password, b =>
        {
            b.ApplicationName = application;
            b.Pooling = false;
        });

    [Fact]
    public async Task A_running_statement_shows_from_another_session_and_pg_cancel_backend_ends_it_with_57014()
    {
        await using var a = await OpenAsync(SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword, "activity-a");
        await using var b = await OpenAsync(SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword, "activity-b");
        await using var endless = new NpgsqlCommand(Endless, a) { CommandTimeout = 120 };
        var running = endless.ExecuteScalarAsync();

        // B sees A running: pid, user, application, state, query, timestamps.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        int pid;
        while (true)
        {
            await using var look = new NpgsqlCommand(
                "SELECT pid, usename, state, query, backend_start <= query_start AS ordered, client_addr FROM pg_stat_activity WHERE application_name = 'activity-a'", b);
            await using var reader = await look.ExecuteReaderAsync();
            if (await reader.ReadAsync() && reader.GetString(2) == "active")
            {
                pid = reader.GetInt32(0);
                Assert.Equal(SqlSurfaceFixture.Alice, reader.GetString(1));
                Assert.Equal(Endless, reader.GetString(3));
                Assert.True(reader.GetBoolean(4));
                Assert.Equal("127.0.0.1", reader.GetString(5));
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "A's statement never showed as active in pg_stat_activity");
            Assert.False(running.IsCompleted, "A's statement ended before it was cancelled");
            await Task.Delay(50);
        }
        Assert.Equal(a.ProcessID, pid);

        // B's own row: itself, active, running this very statement.
        await using (var self = new NpgsqlCommand("SELECT state, query FROM pg_stat_activity WHERE pid = pg_backend_pid()", b))
        await using (var reader = await self.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal("active", reader.GetString(0));
            Assert.Contains("pg_backend_pid()", reader.GetString(1));
        }

        await using (var cancel = new NpgsqlCommand("SELECT pg_cancel_backend($1)", b))
        {
            cancel.Parameters.AddWithValue(pid);
            Assert.Equal(true, await cancel.ExecuteScalarAsync());
        }
        var error = await Assert.ThrowsAsync<PostgresException>(() => running);
        Assert.Equal("57014", error.SqlState);

        // A carries on; B sees it idle with its last statement.
        await using (var again = new NpgsqlCommand("SELECT 1", a))
            Assert.Equal(1, await again.ExecuteScalarAsync());
        await using (var idle = new NpgsqlCommand("SELECT state, query FROM pg_stat_activity WHERE pid = $1", b))
        {
            idle.Parameters.AddWithValue(pid);
            await using var reader = await idle.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("idle", reader.GetString(0));
            Assert.Equal("SELECT 1", reader.GetString(1));
        }
        // A pid that is no connection: false, as in PostgreSQL.
        await using (var nobody = new NpgsqlCommand("SELECT pg_cancel_backend(0)", b))
            Assert.Equal(false, await nobody.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_user_sees_and_cancels_only_its_own_sessions_and_an_admin_every_one()
    {
        await using var bob = await OpenAsync(SqlSurfaceFixture.Bob, SqlSurfaceFixture.BobPassword, "activity-bob");
        await using var alice = await OpenAsync(SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword, "activity-alice");
        await using var admin = await OpenAsync(SqlSurfaceFixture.Admin, SqlSurfaceFixture.AdminPassword, "activity-admin");

        await using (var own = new NpgsqlCommand("SELECT pg_backend_pid()", bob))
            Assert.Equal(bob.ProcessID, await own.ExecuteScalarAsync());

        await using (var hidden = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE usename <> current_user OR pid = $1", alice))
        {
            hidden.Parameters.AddWithValue(bob.ProcessID);
            Assert.Equal(0L, await hidden.ExecuteScalarAsync());
        }
        await using (var mine = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = $1", alice))
        {
            mine.Parameters.AddWithValue(alice.ProcessID);
            Assert.Equal(1L, await mine.ExecuteScalarAsync());
        }
        await using (var cancel = new NpgsqlCommand("SELECT pg_cancel_backend($1)", alice))
        {
            cancel.Parameters.AddWithValue(bob.ProcessID);
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => cancel.ExecuteScalarAsync())).SqlState);
        }

        await using (var all = new NpgsqlCommand(
            "WITH mine AS (SELECT 1 AS one) SELECT a.usename, a.application_name, a.state FROM pg_stat_activity a, mine WHERE a.pid IN ($1, $2) ORDER BY a.usename", admin))
        {
            all.Parameters.AddWithValue(bob.ProcessID);
            all.Parameters.AddWithValue(alice.ProcessID);
            await using var reader = await all.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync()) rows.Add($"{reader.GetString(0)}|{reader.GetString(1)}|{reader.GetString(2)}");
            Assert.Equal(["alice|activity-alice|idle", "bob|activity-bob|idle"], rows);
        }
        await using (var cancel = new NpgsqlCommand("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = $1", admin))
        {
            cancel.Parameters.AddWithValue(bob.ProcessID);
            Assert.Equal(true, await cancel.ExecuteScalarAsync());
        }
        // Cancelling an idle connection does nothing to it.
        await using (var still = new NpgsqlCommand("SELECT 1", bob))
            Assert.Equal(1, await still.ExecuteScalarAsync());
    }
}
