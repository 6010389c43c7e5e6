using Azure.Storage.Blobs;
using TimeFusion.Storage;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Delta;

/// <summary>The same Delta table behaviour over Azure Blob storage (Azurite): put-if-absent commits, racing writers, checkpoints.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureDeltaTableTests(AzuriteFixture azurite) : DeltaTableTestsBase, IDisposable
{
    private readonly TempDirectory _cache = new();
    private readonly BlobContainerClient _container = CreateContainer(azurite);

    private static BlobContainerClient CreateContainer(AzuriteFixture azurite)
    {
        var container = new BlobContainerClient(azurite.ConnectionString, AzuriteFixture.NewContainerName());
        container.CreateIfNotExists();
        return container;
    }

    protected override IObjectStore CreateStore() =>
        new AzureBlobObjectStore(_container, "t" + Guid.NewGuid().ToString("N"), new LocalFileCache(_cache.Path));

    public void Dispose() => _cache.Dispose();
}
