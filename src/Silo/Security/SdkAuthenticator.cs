using Microsoft.Extensions.Options;
using TimeFusion.Grains;
using TimeFusion.Hosting;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Security;

/// <summary>
/// SDK logins against the server's users (<see cref="UserDirectory"/>, the same as PostgreSQL and Flight) with the shared
/// login back-off (per user name: the Orleans gateway does not tell the client's address), and the session tokens
/// (<see cref="SessionTokens"/>) the gateway's call filter verifies on every call.
/// </summary>
public sealed class SdkAuthenticator : IClientAuthenticator
{
    private const string Protocol = "SDK";

    private readonly UserDirectory _users;
    private readonly LoginThrottle _throttle;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;
    private readonly SessionTokens _tokens;

    /// <summary>Creates the authenticator; the signing key is resolved once (<see cref="SdkSessionOptions.SessionSecret"/> or the data directory's).</summary>
    public SdkAuthenticator(UserDirectory users, LoginThrottle throttle, IOptions<SdkSessionOptions> options, IOptions<TimeFusionOptions> data, TimeProvider? time = null)
    {
        _users = users;
        _throttle = throttle;
        _time = time ?? TimeProvider.System;
        _lifetime = options.Value.SessionLifetime;
        _tokens = new SessionTokens(SessionKey.Resolve(options.Value, data.Value.FullDataDirectory), _time);
    }

    /// <inheritdoc />
    public async Task<ClientSession> LoginAsync(string user, string password, CancellationToken cancellationToken = default)
    {
        await _throttle.WaitTurnAsync(user, null, cancellationToken).ConfigureAwait(false);
        if (_users.Verify(user, password) is null)
        {
            _throttle.Failed(Protocol, user, null);
            // The PostgreSQL wording: it does not tell an unknown user from a wrong password.
            throw new TimeFusionException(SqlState.InvalidPassword, $"password authentication failed for user \"{user}\"");
        }
        _throttle.Succeeded(user, null);
        return Issue(user);
    }

    /// <inheritdoc />
    public ClientSession Renew(string token) => Issue(UserOf(token).Name);

    /// <inheritdoc />
    public Caller Verify(string token) => UserOf(token).ToCaller();

    private ClientSession Issue(string user)
    {
        var expires = _time.GetUtcNow() + _lifetime;
        return new ClientSession(_tokens.Issue(user, expires), expires, _users.Find(user)?.ToCaller().IsAdmin ?? false);
    }

    private TimeFusionUser UserOf(string token) =>
        _tokens.UserOf(token) is { } name && _users.Find(name) is { } user
            ? user
            : throw new TimeFusionException(SqlState.InvalidAuthorizationSpecification, "the SDK session is not valid (expired, signed by another server, or its user is gone): log in again");
}
