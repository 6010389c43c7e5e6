using Microsoft.Extensions.Options;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Postgres;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// The PostgreSQL endpoint's backend: users from <see cref="PostgresUsersOptions"/>, SQL through the query gateway grain,
/// catalog queries (pg_catalog, information_schema) answered by the silo's <see cref="PgCatalogDatabase"/>.
/// </summary>
public sealed class ClusterPostgresBackend(IGrainFactory grains, IOptions<PostgresUsersOptions> users, PgCatalogDatabase catalog) : IPostgresBackend
{
    /// <inheritdoc />
    public ValueTask<PostgresUser?> FindUserAsync(string userName, CancellationToken cancellationToken) =>
        ValueTask.FromResult(users.Value.Effective().FirstOrDefault(u => u.Name == userName));

    /// <inheritdoc />
    public ValueTask<IPostgresSession> OpenSessionAsync(PostgresUser user, PostgresSessionInfo info, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IPostgresSession>(new ClusterPostgresSession(grains, user, users.Value.Effective(), catalog));
}
