namespace TimeFusion.Hosting;

/// <summary>
/// Cluster mode, bound from <c>TimeFusion:Cluster</c>. When <see cref="ConnectionString"/> is set, silos find each
/// other through an Azure Table (Orleans' Azure Storage clustering), the catalog grain keeps its state in an Azure
/// Table, and WAL segments and Delta tables live in Azure Blob storage (local disk only caches); unset, the silo runs
/// alone on loopback as before.
/// </summary>
public sealed class TimeFusionClusterOptions
{
    /// <summary>The Azure Storage connection string (Blob and Table endpoints). Unset: single-node mode.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The Orleans cluster id: silos with the same id form one cluster. Default <c>timefusion</c>.</summary>
    public string ClusterId { get; set; } = "timefusion";

    /// <summary>
    /// The Orleans service id: the identity of the data (catalog rows, default storage prefix), stable across cluster
    /// restarts and deployments. Default: the <see cref="ClusterId"/>.
    /// </summary>
    public string? ServiceId { get; set; }

    /// <summary>The address other silos and clients use to reach this silo. Default <c>127.0.0.1</c>.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>The address the silo and gateway ports listen on. Default: the <see cref="AdvertisedAddress"/>.</summary>
    public string? ListenAddress { get; set; }

    /// <summary>The Azure Table of silo membership. Default <c>TimeFusionSilos</c>.</summary>
    public string MembershipTable { get; set; } = "TimeFusionSilos";

    /// <summary>The Azure Table holding the catalog grain's state. Default <c>TimeFusionCatalog</c>.</summary>
    public string CatalogTable { get; set; } = "TimeFusionCatalog";

    /// <summary>How long a silo waits for a probe answer before counting it missed. Default 5 s (Orleans' default).</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Missed probes after which a silo suspects another. Default 3 (Orleans' default).</summary>
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>A PKCS#12 (.pfx) certificate: when set, silo-to-silo and client-to-gateway connections use TLS with it.</summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>The password of <see cref="TlsCertificatePath"/>, if any.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>Whether cluster mode is on.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(ConnectionString);

    /// <summary>The effective service id.</summary>
    public string EffectiveServiceId => string.IsNullOrWhiteSpace(ServiceId) ? ClusterId : ServiceId;

    /// <summary>The effective listen address.</summary>
    public string EffectiveListenAddress => string.IsNullOrWhiteSpace(ListenAddress) ? AdvertisedAddress : ListenAddress;
}
