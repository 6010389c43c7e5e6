using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// SDK logins, verified by the server's <see cref="IClientAuthenticator"/> (its users and login back-off). A stateless
/// worker: it runs in the silo the client is connected to and keeps nothing.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class ClientSessionGrain(IServiceProvider services) : Grain, IClientSessionGrain
{
    private IClientAuthenticator Authenticator => services.GetService<IClientAuthenticator>()
        ?? throw new TimeFusionException(SqlState.InvalidAuthorizationSpecification, "this server accepts no SDK logins");

    /// <inheritdoc />
    public Task<ClientSession> LoginAsync(string user, string password) => Authenticator.LoginAsync(user, password);

    /// <inheritdoc />
    public Task<ClientSession> RenewAsync(string token) => Task.FromResult(Authenticator.Renew(token));
}
