using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Backend;

/// <summary>Registers the silo's PostgreSQL endpoint: the listener, the cluster backend and its catalog database.</summary>
public static class TimeFusionPostgresServiceCollectionExtensions
{
    /// <summary>
    /// Adds the PostgreSQL wire protocol endpoint (<c>TimeFusion:Postgres</c>) served by <see cref="ClusterPostgresBackend"/>
    /// over the silo's grains, with the users of <c>TimeFusion:Users</c>.
    /// </summary>
    public static IServiceCollection AddTimeFusionPostgres(this IServiceCollection services)
    {
        services.AddTimeFusionUsers();
        services.TryAddSingleton<PgCatalogDatabase>();
        services.TryAddSingleton<IPostgresBackend, ClusterPostgresBackend>();
        return services.AddPostgresServer();
    }
}
