using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo;

/// <summary>How the TimeFusion server process sets up its silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// Cluster mode when <c>TimeFusion:Cluster:ConnectionString</c> is set (<see cref="TimeFusionClusterSiloBuilderExtensions.UseTimeFusionAzureClustering"/>),
    /// otherwise single-node clustering on loopback; either way on the ports from <c>TimeFusion:SiloPort</c> /
    /// <c>TimeFusion:GatewayPort</c>, checked (range, clash, already in use) here because Orleans needs them while the
    /// silo is built, with the same message as any other setting.
    /// </summary>
    public static ISiloBuilder UseTimeFusionClustering(this ISiloBuilder silo)
    {
        var cluster = TimeFusionClusterSiloBuilderExtensions.ClusterOptionsOf(silo.Configuration);
        var server = ValidatedServer(silo, cluster.Enabled ? IPAddress.Parse(cluster.EffectiveListenAddress) : IPAddress.Loopback);
        if (cluster.Enabled) silo.UseTimeFusionAzureClustering(server.SiloPort, server.GatewayPort);
        else silo.UseLocalhostClustering(siloPort: server.SiloPort, gatewayPort: server.GatewayPort);
        silo.Services.AddHostedService<DataDirectoryService>();
        return silo;
    }

    /// <summary>Single-node clustering on loopback (the silo and its client gateway listen on 127.0.0.1 only).</summary>
    public static ISiloBuilder UseTimeFusionLocalhostClustering(this ISiloBuilder silo)
    {
        var server = ValidatedServer(silo, IPAddress.Loopback);
        silo.UseLocalhostClustering(siloPort: server.SiloPort, gatewayPort: server.GatewayPort);
        silo.Services.AddHostedService<DataDirectoryService>();
        return silo;
    }

    private static ServerOptions ValidatedServer(ISiloBuilder silo, IPAddress listen)
    {
        var server = silo.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        var result = new ServerOptionsValidator().Validate(Options.DefaultName, server);
        if (result.Failed) throw new OptionsValidationException(Options.DefaultName, typeof(ServerOptions), result.Failures);
        // A port taken by another process would otherwise surface as a socket error deep inside Orleans' start.
        var problems = new OptionsProblems(ServerOptions.Section);
        problems.Require(IsFree(listen, server.SiloPort), nameof(server.SiloPort), server.SiloPort, $"is already in use on {listen}");
        problems.Require(IsFree(listen, server.GatewayPort), nameof(server.GatewayPort), server.GatewayPort, $"is already in use on {listen}");
        if (problems.Result.Failed) throw new OptionsValidationException(Options.DefaultName, typeof(ServerOptions), problems.Result.Failures);
        silo.Services.AddTimeFusionOptions<ServerOptions, ServerOptionsValidator>(ServerOptions.Section);
        return server;
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return false;
        }
    }
}
