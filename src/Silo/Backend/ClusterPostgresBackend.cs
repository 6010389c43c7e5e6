using TimeFusion.Grains;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using TimeFusion.Ingest;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Session;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// The PostgreSQL endpoint's backend: users from the server's <see cref="UserDirectory"/>, SQL through the query gateway
/// grain, catalog queries (pg_catalog, information_schema) answered by the silo's <see cref="PgCatalogDatabase"/>.
/// </summary>
public sealed class ClusterPostgresBackend(IGrainFactory grains, UserDirectory users, PgCatalogDatabase catalog,
    StatementCancellations cancellations, StatementAdmission admission, IOptions<IngestOptions>? ingest = null,
    IOptions<PostgresServerOptions>? server = null, PostgresSessions? sessions = null, LocalTableWriters? localWriters = null) : IPostgresBackend
{
    // One protocol user per configured user, kept as long as it is: the connection caches the SCRAM secret it derives
    // from a plain password per protocol user instance, so a fresh instance per login would derive it every time.
    private static readonly ConditionalWeakTable<TimeFusionUser, PostgresUser> ProtocolUsers = new();

    /// <inheritdoc />
    public ValueTask<PostgresUser?> FindUserAsync(string userName, CancellationToken cancellationToken) =>
        ValueTask.FromResult(users.Find(userName) is { } user ? ProtocolUserOf(user) : null);

    /// <inheritdoc />
    public PostgresAuthMethod UnknownUserAuthMethod =>
        users.Users.Count(u => u.AuthMethod == PostgresAuthMethod.Cleartext) * 2 > users.Users.Count ? PostgresAuthMethod.Cleartext : PostgresAuthMethod.ScramSha256;

    /// <inheritdoc />
    public ValueTask<IPostgresSession> OpenSessionAsync(PostgresUser user, PostgresSessionInfo info, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IPostgresSession>(new ClusterPostgresSession(grains, user, users.Users.Select(ProtocolUserOf).ToList(), catalog,
            cancellations, admission,
            // The COPY door: the same limit the engine applies to the batch a COPY becomes.
            (ingest?.Value ?? new IngestOptions()).MaxBatchBytes)
        { Settings = info.Setting, InsertPlans = server?.Value.InsertPlans ?? true,
            LocalWriters = server?.Value.LocalInserts ?? true ? localWriters : null, Sessions = sessions, ProcessId = info.ProcessId });

    /// <summary>The PostgreSQL protocol's view of a server user.</summary>
    internal static PostgresUser ProtocolUserOf(TimeFusionUser user) => ProtocolUsers.GetValue(user, u => new PostgresUser
    {
        Name = u.Name,
        PasswordOrScramSecret = u.PasswordOrScramSecret,
        AuthMethod = u.AuthMethod,
        Projects = u.Projects,
        IsAdmin = u.IsAdmin,
    });
}
