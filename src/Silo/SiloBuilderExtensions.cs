using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo;

/// <summary>How the TimeFusion server process sets up its silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// Single-node clustering on loopback with the ports from <c>TimeFusion:SiloPort</c> / <c>TimeFusion:GatewayPort</c>,
    /// and the start-up log line. Orleans needs the ports while the silo is built, so they are checked here, with
    /// the same message as any other setting.
    /// </summary>
    public static ISiloBuilder UseTimeFusionLocalhostClustering(this ISiloBuilder silo)
    {
        var server = silo.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        var result = new ServerOptionsValidator().Validate(Options.DefaultName, server);
        if (result.Failed) throw new OptionsValidationException(Options.DefaultName, typeof(ServerOptions), result.Failures);
        silo.Services.AddTimeFusionOptions<ServerOptions, ServerOptionsValidator>(ServerOptions.Section);
        silo.UseLocalhostClustering(siloPort: server.SiloPort, gatewayPort: server.GatewayPort);
        silo.Services.AddHostedService<DataDirectoryService>();
        return silo;
    }
}
