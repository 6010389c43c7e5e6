using Azure.Storage.Blobs;
using TimeFusion.Storage;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobObjectStoreTests(AzuriteFixture azurite) : ObjectStoreContractTests, IDisposable
{
    private readonly TempDirectory _cache = new();

    protected override async Task<IObjectStore> CreateStoreAsync()
    {
        var container = new BlobContainerClient(azurite.ConnectionString, AzuriteFixture.NewContainerName());
        var store = new AzureBlobObjectStore(container, "root/prefix", new LocalFileCache(_cache.Path));
        await store.EnsureContainerAsync();
        return store;
    }

    public void Dispose() => _cache.Dispose();
}
