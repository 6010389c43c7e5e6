using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TimeFusion.Hosting;

/// <summary>
/// Creates the Azure containers when the silo starts (before any grain can open a table), so a fresh storage account
/// works without set-up and a wrong connection string fails the start rather than the first insert.
/// </summary>
internal sealed class AzureContainersInitializer(
    IOptions<TimeFusionStorageOptions> options,
    AzureStorageContainers containers,
    ILogger<AzureContainersInitializer> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(AzureContainersInitializer), ServiceLifecycleStage.RuntimeInitialize, StartAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Kind != StorageKind.AzureBlob) return;
        await containers.Tables.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await containers.Wal.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        logger.LogInformation("TimeFusion storage: Delta tables in {Tables}, WAL in {Wal}", containers.Tables.Uri, containers.Wal.Uri);
    }
}
