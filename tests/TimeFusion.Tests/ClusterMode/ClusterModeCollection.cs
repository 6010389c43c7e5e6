using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.ClusterMode;

/// <summary>
/// The cluster-mode process tests run three silo processes under write load: on two cores they would starve timing-
/// bound tests running beside them (and be starved by them), so this collection runs alone, with its own Azurite.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterModeCollection : ICollectionFixture<AzuriteFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "cluster-mode";
}
