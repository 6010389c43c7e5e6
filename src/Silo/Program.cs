using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using Orleans.Storage;
using TimeFusion.Hosting;
using TimeFusion.Silo;
using TimeFusion.Silo.Backend;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Flight;
using TimeFusion.Silo.Protocol.Postgres;

// The embedded default: one silo, localhost clustering, everything under ./data.
var builder = Host.CreateApplicationBuilder(args);
// Orleans' own start-up chatter drowns what an operator needs; appsettings/env can lower these again.
builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Microsoft", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning);
var options = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
builder.Services.AddSingleton(options);
// Engine tuning (buffer memory, flush thresholds, WAL sync) from TimeFusion:Engine; the data directory is the server's.
var engineOptions = builder.Configuration.GetSection(ServerOptions.Section + ":Engine").Get<TimeFusionEngineOptions>() ?? new TimeFusionEngineOptions();
engineOptions.DataDirectory = options.DataDirectory;
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(siloPort: options.SiloPort, gatewayPort: options.GatewayPort);
    // The catalog survives restarts in a local file (Azure Table storage in cluster mode).
    silo.Services.AddKeyedSingleton<IGrainStorage>("catalog", (sp, _) =>
        new LocalFileGrainStorage(Path.Combine(options.DataDirectory, "catalog"), sp.GetRequiredService<Serializer>()));
    silo.Services.AddTimeFusionEngine(engineOptions);
});
builder.Services.AddHostedService<DataDirectoryService>();
// PostgreSQL wire protocol on 127.0.0.1:5432 by default (TimeFusion:Postgres), users from TimeFusion:Users.
builder.Services.Configure<PostgresUsersOptions>(builder.Configuration.GetSection(PostgresUsersOptions.Section));
builder.Services.AddSingleton<PgCatalogDatabase>();
builder.Services.AddSingleton<IPostgresBackend, ClusterPostgresBackend>();
builder.Services.AddPostgresServer(builder.Configuration.GetSection(PostgresServerOptions.Section));
// Arrow Flight (gRPC, HTTP/2 cleartext) on 127.0.0.1:50051 by default (TimeFusion:Flight), the same users.
builder.Services.AddFlightEndpoint(builder.Configuration.GetSection(FlightEndpointOptions.Section));

var host = builder.Build();
await host.RunAsync();
return 0;
