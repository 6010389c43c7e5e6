using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.DuckDb;
using TimeFusion.Engine;
using TimeFusion.Flush;
using TimeFusion.Maintenance;
using TimeFusion.Ingest;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Storage;
using TimeFusion.Wal;

namespace TimeFusion.Hosting;

/// <summary>
/// Adds TimeFusion to an Orleans silo. Every setting is bound from configuration (<see cref="TimeFusionSections"/>)
/// and validated when the host starts, so a bad value stops the start with a message naming its key; code may
/// still adjust options afterwards with <c>services.Configure&lt;T&gt;(…)</c>.
/// </summary>
public static class TimeFusionSiloBuilderExtensions
{
    /// <summary>The grain storage name of the catalog.</summary>
    public const string CatalogStorageName = "catalog";

    /// <summary>Everything a TimeFusion silo needs: <see cref="AddTimeFusionEngine"/>, <see cref="AddTimeFusionStorage"/> and <see cref="AddTimeFusionCatalog"/>.</summary>
    public static ISiloBuilder UseTimeFusion(this ISiloBuilder silo) =>
        silo.AddTimeFusionEngine().AddTimeFusionStorage().AddTimeFusionCatalog();

    /// <summary>
    /// The engine: the buffer database, <see cref="EngineServices"/>, the SQL parser, the executors and the exception
    /// translation filter, with <c>TimeFusion:DataDirectory</c>, <c>:Buffer</c>, <c>:Flush</c>, <c>:Wal</c>,
    /// <c>:Delta</c>, <c>:Ingest</c> and <c>:Execution</c>. Needs an <see cref="IObjectStore"/> and an
    /// <see cref="IWalStorage"/> (<see cref="AddTimeFusionStorage"/>).
    /// </summary>
    public static ISiloBuilder AddTimeFusionEngine(this ISiloBuilder silo)
    {
        // Before anything loads DuckDB: its allocator reads its options once, as the library loads.
        DuckDbAllocator.ConfigureBeforeLoad();
        var services = silo.Services;
        services.AddTimeFusionOptions<TimeFusionOptions, TimeFusionOptionsValidator>(TimeFusionSections.Root);
        services.AddTimeFusionOptions<BufferOptions, BufferOptionsValidator>(TimeFusionSections.Buffer);
        services.AddTimeFusionOptions<FlushOptions, FlushOptionsValidator>(TimeFusionSections.Flush)
            .PostConfigure<IConfiguration, IOptions<TimeFusionOptions>>((flush, configuration, root) =>
            {
                // Staging lives beside the data unless a directory is configured explicitly.
                if (configuration[TimeFusionSections.Flush + ":" + nameof(FlushOptions.StagingDirectory)] is null)
                    flush.StagingDirectory = Path.Combine(root.Value.FullDataDirectory, "staging");
            });
        services.AddTimeFusionOptions<FlushTimerOptions, FlushTimerOptionsValidator>(TimeFusionSections.Flush);
        services.AddTimeFusionOptions<WalOptions, WalOptionsValidator>(TimeFusionSections.Wal);
        services.AddTimeFusionOptions<DeltaOptions, DeltaOptionsValidator>(TimeFusionSections.Delta);
        services.AddTimeFusionOptions<IngestOptions, IngestOptionsValidator>(TimeFusionSections.Ingest);
        services.AddTimeFusionOptions<TransactionTimerOptions, TransactionTimerOptionsValidator>(TimeFusionSections.Ingest);
        services.AddTimeFusionOptions<MaintenanceOptions, MaintenanceOptionsValidator>(TimeFusionSections.Maintenance);
        services.AddTimeFusionOptions<ExecutionOptions, ExecutionOptionsValidator>(TimeFusionSections.Execution);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, ProcessMemoryLimitInitializer>());

        services.TryAddSingleton(sp =>
        {
            var db = BufferDatabase.Open(sp.GetRequiredService<IOptions<BufferOptions>>().Value,
                sp.GetService<ILoggerFactory>()?.CreateLogger("TimeFusion.Buffer"));
            TimeBucketFunction.Install(db);
            return db;
        });
        services.TryAddSingleton(sp => new EngineServices(
            sp.GetRequiredService<BufferDatabase>(),
            sp.GetRequiredService<IObjectStore>(),
            sp.GetRequiredService<IWalStorage>(),
            new EngineOptions
            {
                Ingest = sp.GetRequiredService<IOptions<IngestOptions>>().Value,
                Wal = sp.GetRequiredService<IOptions<WalOptions>>().Value,
                Delta = sp.GetRequiredService<IOptions<DeltaOptions>>().Value,
                Flush = sp.GetRequiredService<IOptions<FlushOptions>>().Value,
                Maintenance = sp.GetRequiredService<IOptions<MaintenanceOptions>>().Value,
                FenceOwnership = sp.GetRequiredService<IOptions<TimeFusionClusterOptions>>().Value.Enabled,
            },
            sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton(_ => new SqlParser());
        services.TryAddSingleton<TimeFusion.Grains.StatementCancellations>();
        services.TryAddSingleton<TimeFusion.Grains.LocalTableWriters>();
        services.TryAddSingleton<TimeFusion.Grains.StatementAdmission>();
        services.TryAddSingleton(sp => new SnapshotQueryExecutor(sp.GetRequiredService<IOptions<ExecutionOptions>>().Value));
        services.TryAddSingleton(sp => new MergeExecutor(sp.GetRequiredService<BufferDatabase>(), sp.GetRequiredService<IOptions<ExecutionOptions>>().Value));
        services.TryAddSingleton(sp => new PlanRunner(sp.GetRequiredService<MergeExecutor>(), sp.GetRequiredService<IOptions<ExecutionOptions>>().Value));
        // A fan-out's parts for the grains of one other silo go there in one call (SiloQueryGrain, pinned to its silo).
        services.TryAddSingleton<TimeFusion.Grains.TableGrainLocations>();
        services.AddPlacementDirector<TimeFusion.Grains.Placement.SiloPinnedPlacement, TimeFusion.Grains.Placement.SiloPinnedPlacementDirector>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIncomingGrainCallFilter, ExceptionTranslationFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIncomingGrainCallFilter, ExternalClientFilter>());
        return silo;
    }

    /// <summary>
    /// Where Delta tables and WAL segments live, from <c>TimeFusion:Storage</c>: <see cref="StorageKind.Local"/> under
    /// the data directory (<c>tables/</c>, <c>wal/</c>), or <see cref="StorageKind.AzureBlob"/> (Delta tables in
    /// <see cref="AzureBlobObjectStore"/>, WAL segments in <see cref="AzureAppendBlobWalStorage"/>, the data directory
    /// only for the read cache and export staging).
    /// </summary>
    public static ISiloBuilder AddTimeFusionStorage(this ISiloBuilder silo)
    {
        var services = silo.Services;
        services.AddTimeFusionOptions<TimeFusionOptions, TimeFusionOptionsValidator>(TimeFusionSections.Root);
        services.AddTimeFusionOptions<TimeFusionStorageOptions, TimeFusionStorageOptionsValidator>(TimeFusionSections.Storage);
        services.TryAddSingleton<AzureStorageContainers>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, AzureContainersInitializer>());
        services.TryAddSingleton<IObjectStore>(sp =>
        {
            var (root, storage) = StorageOf(sp);
            return storage.Kind == StorageKind.AzureBlob
                ? new AzureBlobObjectStore(sp.GetRequiredService<AzureStorageContainers>().Tables, storage.Prefix,
                    new LocalFileCache(Path.Combine(root, "cache")))
                : new LocalObjectStore(Path.Combine(root, "tables"));
        });
        services.TryAddSingleton<IWalStorage>(sp =>
        {
            var (root, storage) = StorageOf(sp);
            return storage.Kind == StorageKind.AzureBlob
                ? new AzureAppendBlobWalStorage(sp.GetRequiredService<AzureStorageContainers>().Wal, storage.Prefix)
                : new LocalWalStorage(Path.Combine(root, "wal"), sp.GetService<ILoggerFactory>()?.CreateLogger<LocalWalStorage>());
        });
        return silo;
    }

    /// <summary>
    /// The catalog's grain storage: a local file store under <c>&lt;DataDirectory&gt;/catalog</c> in single-node mode,
    /// an Azure Table (<c>TimeFusion:Cluster:CatalogTable</c>) in cluster mode.
    /// </summary>
    public static ISiloBuilder AddTimeFusionCatalog(this ISiloBuilder silo)
    {
        silo.Services.AddTimeFusionOptions<TimeFusionOptions, TimeFusionOptionsValidator>(TimeFusionSections.Root);
        var cluster = TimeFusionClusterSiloBuilderExtensions.ClusterOptionsOf(silo.Configuration);
        if (cluster.Enabled) return silo.AddTimeFusionAzureCatalog(cluster, CatalogStorageName);
        silo.Services.AddKeyedSingleton<IGrainStorage>(CatalogStorageName, (sp, _) => new LocalFileGrainStorage(
            Path.Combine(sp.GetRequiredService<IOptions<TimeFusionOptions>>().Value.FullDataDirectory, "catalog"),
            sp.GetRequiredService<Serializer>()));
        return silo;
    }

    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <paramref name="section"/> and validates it when the host starts,
    /// once however often it is called (several extensions share the root options).
    /// </summary>
    public static OptionsBuilder<TOptions> AddTimeFusionOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        var builder = services.AddOptions<TOptions>();
        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<TOptions>) && d.ImplementationType == typeof(TValidator)))
            return builder;
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return builder.BindConfiguration(section).ValidateOnStart();
    }

    private static (string Root, TimeFusionStorageOptions Storage) StorageOf(IServiceProvider sp) =>
        (sp.GetRequiredService<IOptions<TimeFusionOptions>>().Value.FullDataDirectory, sp.GetRequiredService<IOptions<TimeFusionStorageOptions>>().Value);
}
