using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Storage;
using TimeFusion.Wal;

namespace TimeFusion.Hosting;

/// <summary>Registers the silo-wide engine services the grains need (embedded default: everything on local disk).</summary>
public static class TimeFusionServiceCollectionExtensions
{
    /// <summary>Adds the buffer database, object and WAL stores, the SQL parser and <see cref="EngineServices"/>.</summary>
    public static IServiceCollection AddTimeFusionEngine(this IServiceCollection services, TimeFusionEngineOptions options)
    {
        var root = Path.GetFullPath(options.DataDirectory);
        options.Engine.Flush.StagingDirectory = Path.Combine(root, "staging");
        services.AddSingleton(options);
        services.AddSingleton(sp =>
        {
            var db = BufferDatabase.Open(options.Buffer, sp.GetService<ILoggerFactory>()?.CreateLogger("TimeFusion.Buffer"));
            TimeBucketFunction.Install(db);
            return db;
        });
        services.AddSingleton<IObjectStore>(_ => new LocalObjectStore(Path.Combine(root, "tables")));
        services.AddSingleton<IWalStorage>(_ => new LocalWalStorage(Path.Combine(root, "wal")));
        services.AddSingleton(sp => new EngineServices(
            sp.GetRequiredService<BufferDatabase>(),
            sp.GetRequiredService<IObjectStore>(),
            sp.GetRequiredService<IWalStorage>(),
            options.Engine,
            sp.GetService<ILoggerFactory>()));
        services.AddSingleton(_ => new SqlParser());
        services.AddSingleton(_ => new SnapshotQueryExecutor());
        services.AddSingleton(sp => new MergeExecutor(sp.GetRequiredService<BufferDatabase>()));
        services.AddSingleton(sp => new PlanRunner(sp.GetRequiredService<MergeExecutor>()));
        services.AddSingleton<IIncomingGrainCallFilter, ExceptionTranslationFilter>();
        return services;
    }
}
