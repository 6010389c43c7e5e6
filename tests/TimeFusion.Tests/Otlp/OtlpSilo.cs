using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using TimeFusion.Silo.Protocol.Otlp;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Cluster;

namespace TimeFusion.Tests.Otlp;

/// <summary>
/// The OTLP receiver (HTTP and gRPC) and the PostgreSQL door on free loopback ports over one in-process silo, with
/// the users the OTLP tests log in as. Each test writes its own project, so row counts are exact.
/// </summary>
public abstract class OtlpSilo<TCluster> : IAsyncLifetime where TCluster : ClusterFixture, new()
{
    /// <summary>A user's password (the same for every test user).</summary>
    public const string Password = "otlp-pw";

    public TCluster Cluster { get; } = new();

    public OtlpEndpointHost Otlp { get; private set; } = null!;

    internal ClusterPostgresEndpoint Postgres { get; private set; } = null!;

    public HttpClient Http { get; } = new();

    protected virtual int MaxRequestBytes => 16 << 20;

    /// <summary>The user for a project: may write only that project (its default).</summary>
    public static TimeFusionUser UserFor(string project) =>
        new() { Name = "u-" + project, PasswordOrScramSecret = Password, Projects = [project] };

    protected abstract string[] Projects { get; }

    public string HttpBase => $"http://127.0.0.1:{Otlp.HttpEndPoint!.Port}";

    public string GrpcBase => $"http://127.0.0.1:{Otlp.GrpcEndPoint!.Port}";

    public async Task InitializeAsync()
    {
        await Cluster.InitializeAsync();
        var users = Projects.Select(UserFor).ToArray();
        var directory = new UserDirectory(Options.Create(new TimeFusionUsersOptions { Users = [.. users] }));
        Otlp = new OtlpEndpointHost(Cluster.Client, directory, Options.Create(new OtlpOptions
        {
            HttpPort = 0, GrpcPort = 0, MaxRequestBytes = MaxRequestBytes, RetryAfter = TimeSpan.FromSeconds(3),
        }));
        await Otlp.StartAsync(CancellationToken.None);
        Postgres = await ClusterPostgresEndpoint.StartAsync(Cluster.Client, users);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Otlp.DisposeAsync();
        await Postgres.DisposeAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>The Basic credential of a project's user.</summary>
    public static string BasicValue(string project, string password = Password) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"u-{project}:{password}"));

    public static AuthenticationHeaderValue Basic(string project, string password = Password) => new("Basic", BasicValue(project, password));

    /// <summary>Runs a query as the project's user over the PostgreSQL door; every row as name → value.</summary>
    public async Task<List<Dictionary<string, object?>>> QueryAsync(string project, string sql)
    {
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={Postgres.Port};Username=u-{project};Password={Password};Database=timefusion");
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        await using var source = builder.Build();
        await using var conn = await source.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public async Task<long> CountAsync(string project, string table = "otel_logs_and_spans") =>
        Convert.ToInt64((await QueryAsync(project, $"SELECT count(*) AS n FROM {table}"))[0]["n"]);
}

/// <summary>The receiver over an ordinary silo (1 MiB request cap, so 413 is cheap to reach).</summary>
public sealed class OtlpTestSilo : OtlpSilo<OneSiloCluster>
{
    protected override int MaxRequestBytes => 1 << 20;

    protected override string[] Projects =>
    [
        "sdk-http-traces", "sdk-grpc-traces", "sdk-http-logs", "sdk-grpc-logs", "sdk-http-metrics", "sdk-grpc-metrics",
        "json", "json-gzip", "malformed", "partial", "auth", "other", "big", "metrics-json", "types",
    ];
}

/// <summary>The receiver over a silo whose memory budget holds only a few batches.</summary>
public sealed class OtlpTinyBudgetSilo : OtlpSilo<TinyBudgetCluster>
{
    protected override string[] Projects => ["bp-http0", "bp-http1", "bp-http2", "bp-grpc0", "bp-grpc1", "bp-grpc2"];
}
