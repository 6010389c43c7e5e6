using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TimeFusion.Silo;

// The embedded default: one silo, localhost clustering, everything under ./data.
var builder = Host.CreateApplicationBuilder(args);
// Orleans' own start-up chatter drowns what an operator needs; appsettings/env can lower these again.
builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Microsoft", LogLevel.Warning);
var options = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
builder.Services.AddSingleton(options);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(siloPort: options.SiloPort, gatewayPort: options.GatewayPort);
});
builder.Services.AddHostedService<DataDirectoryService>();

var host = builder.Build();
await host.RunAsync();
return 0;
