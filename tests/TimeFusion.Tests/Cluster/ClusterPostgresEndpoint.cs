using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Backend;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Security;

namespace TimeFusion.Tests.Cluster;

/// <summary>The silo's PostgreSQL endpoint (cluster backend, catalog database) on a free loopback port, over a test cluster's client.</summary>
internal sealed class ClusterPostgresEndpoint : IAsyncDisposable
{
    private readonly PgCatalogDatabase _catalog = new();
    private PostgresServer? _server;

    public int Port => _server!.LocalEndPoint!.Port;

    public static Task<ClusterPostgresEndpoint> StartAsync(IGrainFactory grains, params TimeFusionUser[] users) =>
        StartAsync(grains, new PostgresServerOptions { Port = 0 }, users);

    public static Task<ClusterPostgresEndpoint> StartAsync(IGrainFactory grains, PostgresServerOptions options, params TimeFusionUser[] users) =>
        StartAsync(grains, options, new TimeFusion.Query.Execution.ExecutionOptions(), users);

    /// <summary>An endpoint whose statement slots follow <paramref name="execution"/> (<c>MaxConcurrentStatementsPerUser</c>, <c>StatementQueueTimeout</c>).</summary>
    public static async Task<ClusterPostgresEndpoint> StartAsync(IGrainFactory grains, PostgresServerOptions options, TimeFusion.Query.Execution.ExecutionOptions execution,
        params TimeFusionUser[] users)
    {
        var endpoint = new ClusterPostgresEndpoint();
        endpoint._server = new PostgresServer(
            new ClusterPostgresBackend(grains, new UserDirectory(Options.Create(new TimeFusionUsersOptions { Users = [.. users] })), endpoint._catalog,
                new TimeFusion.Grains.StatementCancellations(), new TimeFusion.Grains.StatementAdmission(Options.Create(execution)),
                server: Options.Create(options)),
            Options.Create(options), NullLogger<PostgresServer>.Instance);
        await endpoint._server.StartAsync(CancellationToken.None);
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _catalog.Dispose();
    }
}
