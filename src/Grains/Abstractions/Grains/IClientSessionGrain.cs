namespace TimeFusion.Grains;

/// <summary>
/// Where an Orleans SDK client logs in (the only grain besides <see cref="IQueryGatewayGrain"/> a client outside the
/// silos may call): user name and password, the same users and login back-off as the PostgreSQL and Flight endpoints,
/// give a signed, expiring <see cref="ClientSession"/>. The client sends its token with every gateway call (request
/// context key <see cref="ClientSession.RequestContextKey"/>); the silo derives the <see cref="Caller"/> from it, so a
/// client cannot choose who it acts as.
/// </summary>
public interface IClientSessionGrain : IGrainWithIntegerKey
{
    /// <summary>A session for that user; fails with 28P01 when the name or the password is wrong.</summary>
    Task<ClientSession> LoginAsync(string user, string password);

    /// <summary>A fresh session for the user of a still valid <paramref name="token"/>; fails with 28000 otherwise.</summary>
    Task<ClientSession> RenewAsync(string token);
}

/// <summary>A signed session token and when it expires.</summary>
/// <param name="Token">Opaque to the client: sent as is with every call.</param>
/// <param name="ExpiresAt">After this the silo refuses the token (renew before).</param>
/// <param name="IsAdmin">Whether the session's user is an admin (informational: the silo decides from the token).</param>
[GenerateSerializer, Immutable]
public sealed record ClientSession([property: Id(0)] string Token, [property: Id(1)] DateTimeOffset ExpiresAt, [property: Id(2)] bool IsAdmin = false)
{
    /// <summary>The Orleans request context key that carries <see cref="Token"/> on every call of an SDK client.</summary>
    public const string RequestContextKey = "timefusion-session";
}

/// <summary>
/// Verifies SDK logins and session tokens. Implemented and registered by the server (its user directory); grains and
/// the gateway's call filter use it through this interface only.
/// </summary>
public interface IClientAuthenticator
{
    /// <summary>A session for that user (after the login back-off's turn); throws <see cref="Wire.TimeFusionException"/> 28P01 when refused.</summary>
    Task<ClientSession> LoginAsync(string user, string password, CancellationToken cancellationToken = default);

    /// <summary>A fresh session for a valid token's user; throws 28000 when the token is not valid.</summary>
    ClientSession Renew(string token);

    /// <summary>Who a valid token acts as; throws <see cref="Wire.TimeFusionException"/> 28000 when it is forged, expired or its user is gone.</summary>
    Caller Verify(string token);
}
