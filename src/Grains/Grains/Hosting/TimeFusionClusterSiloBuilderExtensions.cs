using System.Net;
using System.Security.Cryptography.X509Certificates;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Serialization;
using Orleans.Storage;

namespace TimeFusion.Hosting;

/// <summary>
/// Cluster mode (<c>TimeFusion:Cluster</c>): Orleans Azure Table clustering, the catalog in an Azure Table, WAL and
/// Delta tables in Azure Blob storage, TLS between silos and for clients when a certificate is configured.
/// </summary>
public static class TimeFusionClusterSiloBuilderExtensions
{
    /// <summary>
    /// The cluster settings, bound and checked now: Orleans needs them while the silo is built, so a bad value is
    /// reported (as an <see cref="OptionsValidationException"/>, like any other setting) before anything starts.
    /// </summary>
    public static TimeFusionClusterOptions ClusterOptionsOf(IConfiguration configuration)
    {
        var options = configuration.GetSection(TimeFusionSections.Cluster).Get<TimeFusionClusterOptions>() ?? new TimeFusionClusterOptions();
        var result = new TimeFusionClusterOptionsValidator().Validate(Options.DefaultName, options);
        if (result.Failed) throw new OptionsValidationException(Options.DefaultName, typeof(TimeFusionClusterOptions), result.Failures);
        return options;
    }

    /// <summary>
    /// Joins the cluster named by <c>TimeFusion:Cluster</c> on <paramref name="siloPort"/>/<paramref name="gatewayPort"/>:
    /// membership in an Azure Table, storage forced to Azure Blob on the cluster's connection string (under the
    /// service id unless <c>TimeFusion:Storage:Prefix</c> is set), TLS when a certificate is configured.
    /// </summary>
    public static ISiloBuilder UseTimeFusionAzureClustering(this ISiloBuilder silo, int siloPort, int gatewayPort)
    {
        var cluster = ClusterOptionsOf(silo.Configuration);
        if (!cluster.Enabled) throw new InvalidOperationException($"{TimeFusionSections.Cluster}:ConnectionString is not set");
        silo.Services.AddTimeFusionOptions<TimeFusionClusterOptions, TimeFusionClusterOptionsValidator>(TimeFusionSections.Cluster);

        var advertised = IPAddress.Parse(cluster.AdvertisedAddress);
        var listen = IPAddress.Parse(cluster.EffectiveListenAddress);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.EffectiveServiceId;
        });
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = advertised;
            o.SiloPort = siloPort;
            o.GatewayPort = gatewayPort;
            o.SiloListeningEndpoint = new IPEndPoint(listen, siloPort);
            o.GatewayListeningEndpoint = new IPEndPoint(listen, gatewayPort);
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = cluster.ProbeTimeout;
            o.NumMissedProbesLimit = cluster.MissedProbesLimit;
        });
        var connectionString = cluster.ConnectionString!;
        silo.UseAzureStorageClustering(o =>
        {
            o.TableServiceClient = new TableServiceClient(connectionString);
            o.TableName = cluster.MembershipTable;
        });

        // Local disk only caches: WAL segments and Delta tables go to the cluster's storage account.
        var prefixConfigured = silo.Configuration[TimeFusionSections.Storage + ":" + nameof(TimeFusionStorageOptions.Prefix)] is not null;
        var storageConnectionConfigured = !string.IsNullOrWhiteSpace(silo.Configuration[TimeFusionSections.Storage + ":" + nameof(TimeFusionStorageOptions.ConnectionString)]);
        silo.Services.PostConfigure<TimeFusionStorageOptions>(storage =>
        {
            storage.Kind = StorageKind.AzureBlob;
            if (!storageConnectionConfigured) storage.ConnectionString = connectionString;
            if (!prefixConfigured) storage.Prefix = cluster.EffectiveServiceId;
        });

        if (!string.IsNullOrWhiteSpace(cluster.TlsCertificatePath))
        {
            var certificate = TimeFusionClusterTls.Load(cluster);
            silo.UseTls(certificate, tls => RequireSameCertificate(tls, certificate));
        }
        return silo;
    }

    /// <summary>
    /// Every member of the cluster presents the one configured certificate (the README recipe makes a self-signed one),
    /// so a peer is trusted when it shows exactly that certificate, whatever its chain.
    /// </summary>
    private static void RequireSameCertificate(TlsOptions tls, X509Certificate2 certificate)
    {
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.RemoteCertificateValidation = (remote, _, _) => remote is not null && remote.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span);
    }

    /// <summary>The catalog's grain storage in cluster mode: an Azure Table, state written with the Orleans serializer.</summary>
    internal static ISiloBuilder AddTimeFusionAzureCatalog(this ISiloBuilder silo, TimeFusionClusterOptions cluster, string storageName)
    {
        var connectionString = cluster.ConnectionString!;
        silo.AddAzureTableGrainStorage(storageName, (OptionsBuilder<AzureTableStorageOptions> options) => options.Configure<Serializer>((o, serializer) =>
        {
            o.TableServiceClient = new TableServiceClient(connectionString);
            o.TableName = cluster.CatalogTable;
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        return silo;
    }
}
