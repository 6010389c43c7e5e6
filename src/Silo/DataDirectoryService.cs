using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo;

/// <summary>Creates the data directory at start-up and says where it is.</summary>
internal sealed class DataDirectoryService(IOptions<TimeFusionOptions> data, IOptions<ServerOptions> server, ILogger<DataDirectoryService> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var full = data.Value.FullDataDirectory;
        Directory.CreateDirectory(full);
        logger.LogInformation("TimeFusion silo up: data under {DataDirectory}, gateway port {GatewayPort}", full, server.Value.GatewayPort);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
