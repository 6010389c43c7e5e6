using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>Registers the PostgreSQL protocol listener in a host.</summary>
public static class PostgresServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="PostgresServer"/> as a hosted service with options bound from <paramref name="section"/>
    /// (e.g. <c>TimeFusion:Postgres</c>). An <see cref="IPostgresBackend"/> must be registered as well.
    /// </summary>
    public static IServiceCollection AddPostgresServer(this IServiceCollection services, IConfiguration? section = null)
    {
        var options = services.AddOptions<PostgresServerOptions>();
        if (section is not null)
        {
            options.Bind(section);
        }
        services.AddSingleton<PostgresServer>();
        services.AddHostedService(sp => sp.GetRequiredService<PostgresServer>());
        return services;
    }
}
