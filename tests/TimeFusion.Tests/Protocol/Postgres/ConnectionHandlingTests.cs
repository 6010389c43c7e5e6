using TimeFusion.Tests.Infrastructure;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using TimeFusion.Silo.Protocol.Postgres;
using Xunit.Abstractions;
using static TimeFusion.Tests.Protocol.Postgres.RawPgClient;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>Many clients, stalled clients, limits and shutdown, each on a server of its own.</summary>
public sealed class ConnectionHandlingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DuckDbTestBackend _backend = new();
    private readonly CapturingLogger _logger = new();
    private readonly List<PostgresServer> _servers = [];

    public Task InitializeAsync()
    {
        _backend.AddUser("u", "pw");
        _backend.AddUser("c", "pw", PostgresAuthMethod.Cleartext);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
        await _backend.DisposeAsync();
    }

    private async Task<PostgresServer> StartAsync(Action<PostgresServerOptions>? configure = null)
    {
        var options = new PostgresServerOptions { Port = 0 };
        configure?.Invoke(options);
        var server = new PostgresServer(_backend, Options.Create(options), _logger);
        await server.StartAsync(CancellationToken.None);
        _servers.Add(server);
        return server;
    }

    private static NpgsqlDataSource DataSource(PostgresServer server, bool pooling = false)
    {
        var builder = new NpgsqlDataSourceBuilder(
            $"Host=127.0.0.1;Port={server.LocalEndPoint!.Port};Username=u;Password=pw;Database=tf;Pooling={pooling};Timeout=30;Command Timeout=60;Maximum Pool Size=100");
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        return builder.Build();
    }

    [Fact]
    public async Task Many_concurrent_connections_work_side_by_side()
    {
        const int clients = 50;
        var server = await StartAsync();
        await using var ds = DataSource(server);
        _backend.Exec("CREATE OR REPLACE TABLE many (client INTEGER, i INTEGER)");
        var opened = 0;
        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, clients).Select(async c =>
        {
            await using var connection = await ds.OpenConnectionAsync();
            if (Interlocked.Increment(ref opened) == clients)
            {
                allOpen.TrySetResult();
            }
            await allOpen.Task.WaitAsync(TimeSpan.FromSeconds(60));
            for (var i = 0; i < 20; i++)
            {
                await using var cmd = new NpgsqlCommand("SELECT $1::INTEGER + $2::INTEGER", connection);
                cmd.Parameters.AddWithValue(c);
                cmd.Parameters.AddWithValue(i);
                Assert.Equal(c + i, await cmd.ExecuteScalarAsync());
            }
            await using (var importer = await connection.BeginBinaryImportAsync("COPY many FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0; i < 100; i++)
                {
                    await importer.WriteRowAsync(default, c, i);
                }
                await importer.CompleteAsync();
            }
        }).ToList();
        await allOpen.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(server.ActiveConnections >= clients, $"active {server.ActiveConnections}");
        await Task.WhenAll(tasks);
        Assert.Equal((long)clients * 100, _backend.Scalar("SELECT count(*) FROM many"));
        await Condition.WaitUntilAsync(() => server.ActiveConnections == 0, "connections closed");
        Assert.Empty(_logger.Problems);
    }

    [Fact]
    public async Task Stalled_and_non_reading_clients_do_not_block_others()
    {
        var server = await StartAsync(o => o.AuthenticationTimeout = TimeSpan.FromSeconds(30));
        var stalled = new List<RawPgClient>();
        try
        {
            // Half a startup packet, then silence.
            for (var i = 0; i < 10; i++)
            {
                var client = await ConnectAsync(server.LocalEndPoint!.Port);
                await client.SendRawAsync(StartupPacket([new("user", "c")])[..6]);
                stalled.Add(client);
            }
            // Logged in, asks for a big result and never reads it: its connection blocks on the socket.
            var hog = await ConnectAsync(server.LocalEndPoint!.Port);
            stalled.Add(hog);
            await hog.LoginCleartextAsync("c", "pw");
            await hog.SendRawAsync(RawPgClient.Query("SELECT range AS i, repeat('x', 100) AS pad FROM range(3000000)"));

            await using var ds = DataSource(server);
            var stopwatch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
            {
                await using var connection = await ds.OpenConnectionAsync();
                await using var cmd = new NpgsqlCommand("SELECT count(*) FROM range(1000)", connection);
                Assert.Equal(1000L, await cmd.ExecuteScalarAsync());
            }));
            output.WriteLine($"10 clients served in {stopwatch.ElapsedMilliseconds} ms next to {stalled.Count} stalled ones");
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30));
        }
        finally
        {
            foreach (var client in stalled)
            {
                await client.DisposeAsync();
            }
        }
        // Gone clients free their connections (the hog's blocked write fails once the socket closes).
        await Condition.WaitUntilAsync(() => server.ActiveConnections == 0, $"stalled connections closed (active {server.ActiveConnections})");
    }

    [Fact]
    public async Task Silent_clients_are_closed_after_the_authentication_timeout()
    {
        var server = await StartAsync(o => o.AuthenticationTimeout = TimeSpan.FromMilliseconds(300));
        await using var silent = await ConnectAsync(server.LocalEndPoint!.Port);
        var stopwatch = Stopwatch.StartNew();
        var error = await silent.ReadAsync(TimeSpan.FromSeconds(20));
        Assert.Equal('E', error!.Value.Type);
        Assert.Contains("timeout", error.Value.Fields()['M']);
        Assert.True(await silent.DrainAsync(TimeSpan.FromSeconds(20)));
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(250), $"closed after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Connections_over_the_limit_get_53300()
    {
        var server = await StartAsync(o =>
        {
            o.MaxConnections = 2;
            o.ReservedAdminConnections = 0;
        });
        await using var ds = DataSource(server);
        await using var first = await ds.OpenConnectionAsync();
        await using var second = await ds.OpenConnectionAsync();
        var e = await Assert.ThrowsAsync<PostgresException>(async () => await ds.OpenConnectionAsync());
        Assert.Equal(SqlState.TooManyConnections, e.SqlState);
        await using var cmd = new NpgsqlCommand("SELECT 1", first);
        Assert.Equal(1, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Stopping_the_server_cancels_statements_and_tells_clients()
    {
        var server = await StartAsync();
        await using var ds = DataSource(server);
        var idle = await ds.OpenConnectionAsync();
        var busy = await ds.OpenConnectionAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnStarted(string sql)
        {
            if (sql.Contains("range(100000000000)"))
            {
                started.TrySetResult();
            }
        }
        _backend.StatementStarted += OnStarted;
        try
        {
            await using var slow = new NpgsqlCommand("SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3", busy);
            var running = slow.ExecuteScalarAsync();
            await started.Task.WaitAsync(TimeSpan.FromSeconds(20));
            var stopwatch = Stopwatch.StartNew();
            await server.StopAsync(CancellationToken.None);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"stop took {stopwatch.Elapsed}");
            var e = await Assert.ThrowsAnyAsync<Exception>(() => running);
            output.WriteLine($"busy client saw: {e.GetType().Name}: {e.Message}");
            Assert.Equal(0, server.ActiveConnections);
        }
        finally
        {
            _backend.StatementStarted -= OnStarted;
            await idle.DisposeAsync();
            await busy.DisposeAsync();
        }
    }

    [Fact]
    public async Task Round_trips_per_second_are_measured()
    {
        var server = await StartAsync();
        await using var ds = DataSource(server);
        await using var connection = await ds.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1", connection);
        for (var i = 0; i < 200; i++)
        {
            await cmd.ExecuteScalarAsync();
        }
        var extended = await Measure(async () => await cmd.ExecuteScalarAsync());
        await using var prepared = new NpgsqlCommand("SELECT $1::INTEGER", connection);
        prepared.Parameters.AddWithValue(1);
        await prepared.PrepareAsync();
        var preparedRate = await Measure(async () => await prepared.ExecuteScalarAsync());
        await using var raw = await ConnectAsync(server.LocalEndPoint!.Port);
        await raw.LoginCleartextAsync("c", "pw");
        var simple = await Measure(async () =>
        {
            await raw.SendRawAsync(RawPgClient.Query("SELECT 1"));
            await raw.ReadUntilReadyAsync();
        });
        output.WriteLine($"round trips/s over loopback, DuckDB test backend: Npgsql unprepared {extended:N0}, prepared {preparedRate:N0}, simple query {simple:N0}");
    }

    private static async Task<double> Measure(Func<Task> roundTrip)
    {
        var stopwatch = Stopwatch.StartNew();
        var count = 0;
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(1))
        {
            await roundTrip();
            count++;
        }
        return count / stopwatch.Elapsed.TotalSeconds;
    }
}
