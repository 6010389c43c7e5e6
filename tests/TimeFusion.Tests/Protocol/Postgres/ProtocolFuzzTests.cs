using TimeFusion.Tests.Infrastructure;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using TimeFusion.Silo.Protocol.Postgres;
using Xunit.Abstractions;
using static TimeFusion.Tests.Protocol.Postgres.RawPgClient;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>
/// Random and mutated protocol bytes from many short sessions (fixed seed, bounded in time) against a
/// server that also serves a healthy Npgsql connection: nothing may crash, hang or leak, and the healthy
/// connection must keep working throughout.
/// </summary>
public sealed class ProtocolFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DuckDbTestBackend _backend = new();
    private readonly CapturingLogger _logger = new();
    private PostgresServer _server = null!;

    public async Task InitializeAsync()
    {
        _backend.AddUser("fuzz", "fuzz-pw", PostgresAuthMethod.Cleartext);
        _backend.AddUser("healthy", "healthy-pw");
        _server = new PostgresServer(_backend, Options.Create(new PostgresServerOptions
        {
            Port = 0,
            AuthenticationTimeout = TimeSpan.FromSeconds(2),
            StatementTimeout = TimeSpan.FromSeconds(5),
            MaxMessageBytes = 1024 * 1024,
        }), _logger);
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task Random_and_mutated_sessions_never_hurt_the_server_or_other_connections()
    {
        const int sessions = 300;
        var port = _server.LocalEndPoint!.Port;
        var random = new Random(20240611);
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={port};Username=healthy;Password=healthy-pw;Database=tf;Pooling=false;Timeout=15");
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        await using var dataSource = builder.Build();
        await using var healthy = await dataSource.OpenConnectionAsync();
        var stopwatch = Stopwatch.StartNew();
        var kinds = new int[4];
        for (var i = 0; i < sessions; i++)
        {
            var kind = random.Next(4);
            kinds[kind]++;
            var seed = random.Next();
            await RunSessionAsync(port, kind, new Random(seed), seed);
            if (i % 10 == 0)
            {
                await using var cmd = new NpgsqlCommand("SELECT $1::INTEGER * 2", healthy);
                cmd.Parameters.AddWithValue(i);
                Assert.Equal(i * 2, await cmd.ExecuteScalarAsync());
            }
        }
        output.WriteLine($"{sessions} sessions (raw {kinds[0]}, startup {kinds[1]}, messages {kinds[2]}, mutated {kinds[3]}) in {stopwatch.Elapsed.TotalSeconds:F1} s");
        // Every fuzz connection is gone; only the healthy one remains.
        await Condition.WaitUntilAsync(() => _server.ActiveConnections == 1, $"fuzz connections closed (active {_server.ActiveConnections})");
        await Condition.WaitUntilAsync(() => _backend.OpenSessions == 1, $"fuzz sessions closed (open {_backend.OpenSessions})");
        await using var final = new NpgsqlCommand("SELECT 'alive'", healthy);
        Assert.Equal("alive", await final.ExecuteScalarAsync());
        // Bad input is the client's problem: nothing failed inside the server.
        Assert.Empty(_logger.Problems);
    }

    private static async Task RunSessionAsync(int port, int kind, Random random, int seed)
    {
        await using var client = await ConnectAsync(port);
        try
        {
            await SendFuzzAsync(client, kind, random);
        }
        catch (IOException)
        {
            // The server already closed the connection on an earlier bad message: that is a fine outcome.
            return;
        }
        if (!await client.ShutdownAndDrainAsync(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"server did not close fuzz session kind {kind} seed {seed} after the client stopped sending");
        }
    }

    private static async Task SendFuzzAsync(RawPgClient client, int kind, Random random)
    {
        switch (kind)
        {
            case 0:
                // Pure noise before any startup packet.
                await client.SendRawAsync(RandomBytes(random, random.Next(1, 400)));
                break;
            case 1:
                // A startup packet with random corruption (length, version, parameters).
                await client.SendRawAsync(Mutate(random, StartupPacket([new("user", "fuzz"), new("database", "tf"), new("application_name", "fz")])));
                break;
            case 2:
            {
                // Logged in, then random framed messages of random types.
                await client.LoginCleartextAsync("fuzz", "fuzz-pw");
                var messages = random.Next(1, 8);
                for (var m = 0; m < messages; m++)
                {
                    var type = "QPBDESHCXdcfFp!Z"[random.Next(16)];
                    await client.SendRawAsync(Frame(type, RandomBytes(random, random.Next(0, 64))));
                }
                break;
            }
            default:
            {
                // Logged in, then a valid extended-query pipeline with a few bytes mutated.
                await client.LoginCleartextAsync("fuzz", "fuzz-pw");
                var pipeline = Concat(
                    Parse("s", "SELECT $1::INTEGER + $2::INTEGER AS v, 'x' AS t"),
                    Bind("p", "s", ["1", "2"]),
                    Describe('P', "p"),
                    Execute("p", 1),
                    RawPgClient.Query("SELECT 1; COPY (SELECT 1) TO STDOUT"),
                    Frame('d', RandomBytes(random, 10)),
                    Close('S', "s"),
                    Sync());
                await client.SendRawAsync(Mutate(random, pipeline));
                break;
            }
        }
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] input)
    {
        var bytes = (byte[])input.Clone();
        var mutations = random.Next(1, 5);
        for (var i = 0; i < mutations; i++)
        {
            switch (random.Next(4))
            {
                case 0:
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    // A length field's high byte: huge or negative lengths.
                    bytes[random.Next(Math.Min(bytes.Length, 8))] = (byte)random.Next(256);
                    break;
                default:
                    bytes = bytes[..random.Next(1, bytes.Length)];
                    break;
            }
        }
        return bytes;
    }
}
