using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TimeFusion.Silo;

/// <summary>Creates the data directory at start-up and says where it is.</summary>
internal sealed class DataDirectoryService(ServerOptions options, ILogger<DataDirectoryService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(full);
        logger.LogInformation("TimeFusion silo up: data under {DataDirectory}, gateway port {GatewayPort}", full, options.GatewayPort);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
