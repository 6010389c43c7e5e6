using Microsoft.Extensions.Options;
using TimeFusion.Silo.Protocol.Flight;
using TimeFusion.Silo.Protocol.Otlp;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Cluster;

namespace TimeFusion.Tests.Cli;

/// <summary>
/// The server the command-line tests talk to: a one-silo test cluster with its Arrow Flight endpoint on a free port,
/// and the embedded server's default admin (<c>timefusion</c>/<c>timefusion</c>, default project <c>default</c>) plus
/// a user bound to one project.
/// </summary>
public sealed class CliServer : IAsyncLifetime
{
    public const string AdminPassword = "timefusion";

    private readonly OneSiloCluster _cluster = new();
    private FlightEndpointHost _flight = null!;
    private OtlpEndpointHost _otlp = null!;

    /// <summary>The OTLP/HTTP receiver's base address (for <c>gen --to</c>).</summary>
    public string OtlpAddress => $"http://127.0.0.1:{_otlp.HttpEndPoint!.Port}";

    public string Address => $"grpc://127.0.0.1:{_flight.LocalEndPoint!.Port}";

    public string DataDirectory => _cluster.DataDirectory;

    /// <summary>Arguments that connect to this server as the admin.</summary>
    public string[] Connect => ["--server", Address, "--user", "timefusion", "--password", AdminPassword];

    public async Task InitializeAsync()
    {
        await _cluster.InitializeAsync();
        var users = new UserDirectory(Options.Create(new TimeFusionUsersOptions
        {
            Users =
            [
                new TimeFusionUser { Name = "timefusion", PasswordOrScramSecret = AdminPassword, IsAdmin = true, Projects = ["default"] },
                new TimeFusionUser { Name = "cli-bob", PasswordOrScramSecret = "bobpw", Projects = ["cli-bob"] },
            ],
        }));
        _flight = new FlightEndpointHost(_cluster.Client, users, Options.Create(new FlightEndpointOptions { Port = 0 }));
        await _flight.StartAsync(CancellationToken.None);
        _otlp = new OtlpEndpointHost(_cluster.Client, users, Options.Create(new OtlpOptions { HttpPort = 0, GrpcPort = 0 }));
        await _otlp.StartAsync(CancellationToken.None);
    }

    /// <summary>Runs <c>timefusion</c> connected to this server: <paramref name="args"/> then the connection options.</summary>
    public Task<CliResult> RunAsync(params string[] args) => CliProcess.RunAsync([.. args, .. Connect]);

    /// <summary>Rows per project of <c>otel_logs_and_spans</c> among <paramref name="projects"/> (through <c>query --format csv</c>).</summary>
    public async Task<Dictionary<string, long>> CountsAsync(params string[] projects)
    {
        var list = string.Join(", ", projects.Select(p => $"'{p}'"));
        var result = await RunAsync("query", $"SELECT project_id, count(*) AS n FROM otel_logs_and_spans WHERE project_id IN ({list}) GROUP BY project_id", "--format", "csv");
        Assert.True(result.ExitCode == 0, result.ToString());
        return CsvLines(result.StdOut).Skip(1).ToDictionary(l => l[0], l => long.Parse(l[1]));
    }

    /// <summary>The fields of each line of simple CSV output (no quoted commas).</summary>
    public static List<string[]> CsvLines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r').Split(',')).ToList();

    public async Task DisposeAsync()
    {
        await _otlp.DisposeAsync();
        await _flight.DisposeAsync();
        await _cluster.DisposeAsync();
    }
}

/// <summary>One server for every command-line test class (they run one after the other, each with its own projects).</summary>
[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliServer>
{
    public const string Name = "Cli";
}
