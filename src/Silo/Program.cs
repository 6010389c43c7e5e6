using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TimeFusion.Hosting;
using TimeFusion.Silo;
using TimeFusion.Silo.Backend;
using TimeFusion.Silo.Dashboard;
using TimeFusion.Silo.Protocol.Flight;
using TimeFusion.Silo.Protocol.Otlp;
using TimeFusion.Silo.Security;

// The embedded default: one silo, localhost clustering, everything under ./data; with TimeFusion:Cluster:ConnectionString
// a member of an Azure-backed cluster. Settings: README "Configuration".
// Settings are read once at start (nothing reloads them), so appsettings*.json are not watched: the watcher covers the
// content root recursively — ./data with its WAL segments included — and woke a thread on every WAL write.
var hostSettings = new HostApplicationBuilderSettings { Args = args, Configuration = new ConfigurationManager() };
hostSettings.Configuration.AddInMemoryCollection([new("hostBuilder:reloadConfigOnChange", "false")]);
var builder = Host.CreateApplicationBuilder(hostSettings);
// Orleans' own start-up chatter drowns what an operator needs; appsettings/env can lower these again.
builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Microsoft", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning);
IHost host;
try
{
    builder.UseOrleans(silo => silo.UseTimeFusionClustering().UseTimeFusion().UseTimeFusionDashboard());
    builder.Services.AddTimeFusionPostgres().AddTimeFusionFlight().AddTimeFusionOtlp().AddTimeFusionSdkSessions();
    host = builder.Build();
    // What the host would check first thing in StartAsync, checked here so a bad setting is reported plainly.
    host.Services.GetRequiredService<IStartupValidator>().Validate();
}
catch (Exception e) when (ConfigurationErrors.Of(e) is { Count: > 0 } errors)
{
    await Console.Error.WriteLineAsync("TimeFusion cannot start, the configuration is invalid:");
    foreach (var error in errors) await Console.Error.WriteLineAsync("  " + error);
    return 2;
}
try
{
    await host.StartAsync();
}
catch (Exception e) when (ConfigurationErrors.OfStart(e) is { } problem)
{
    // Storage that cannot be reached or refuses the credentials: say so plainly, as for a bad setting.
    await Console.Error.WriteLineAsync("TimeFusion cannot start: " + problem);
    return 2;
}
await host.WaitForShutdownAsync();
return 0;
