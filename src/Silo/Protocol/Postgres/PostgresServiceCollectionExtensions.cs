using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>Registers the PostgreSQL protocol listener in a host.</summary>
public static class PostgresServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="PostgresServer"/> as a hosted service with options bound from <c>TimeFusion:Postgres</c> and
    /// validated at start. An <see cref="IPostgresBackend"/> must be registered as well.
    /// </summary>
    public static IServiceCollection AddPostgresServer(this IServiceCollection services)
    {
        services.AddTimeFusionOptions<PostgresServerOptions, PostgresServerOptionsValidator>(PostgresServerOptions.Section);
        if (services.Any(d => d.ServiceType == typeof(PostgresServer))) return services;
        services.TryAddSingleton<Session.PostgresSessions>();
        services.AddSingleton<PostgresServer>();
        services.AddHostedService(sp => sp.GetRequiredService<PostgresServer>());
        return services;
    }
}
