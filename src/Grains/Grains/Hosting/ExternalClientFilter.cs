using Microsoft.Extensions.DependencyInjection;
using TimeFusion.Grains;
using TimeFusion.Wire;

namespace TimeFusion.Hosting;

/// <summary>
/// The door of the Orleans client gateway: a call from a client outside the silos (an SDK process) to a TimeFusion grain
/// other than <see cref="IClientSessionGrain"/> (to log in) must carry a valid session token
/// (<see cref="ClientSession.RequestContextKey"/>). On <see cref="IQueryGatewayGrain"/> every <see cref="Caller"/>
/// argument is replaced by the token's, so the client cannot choose who it acts as; the other grains (tables, catalog)
/// check no grants, so only an admin's session reaches them. Calls from inside the silos (the PostgreSQL, Flight and OTLP
/// doors, which authenticate their own users, and grain-to-grain calls) pass untouched.
/// </summary>
public sealed class ExternalClientFilter(IServiceProvider services) : IIncomingGrainCallFilter
{
    // Orleans names the client hosted inside each silo "hosted-<silo address>"; external clients get a random id.
    private const string HostedClientPrefix = "hosted-";

    /// <summary>Whether a call with this source came from a client outside the silos.</summary>
    public static bool IsExternalClient(GrainId? source) =>
        source is { } id && GrainTypePrefix.IsClient(id) && !id.Key.ToString().StartsWith(HostedClientPrefix, StringComparison.Ordinal);

    /// <inheritdoc />
    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (!IsExternalClient(context.SourceId)) return context.Invoke();
        var target = context.InterfaceMethod?.DeclaringType;
        // A streamed result starts through Orleans' enumeration extension, not through our interface: the stream's
        // first call carries the table grain's query, so only an admin's session may start one from outside (MoveNext
        // and DisposeAsync name an enumeration by its random id and need no check).
        var startsStream = target == typeof(IAsyncEnumerableGrainExtension) && context.InterfaceMethod?.Name == nameof(IAsyncEnumerableGrainExtension.StartEnumeration);
        if (target == typeof(IClientSessionGrain) || (!IsOurs(target) && !startsStream)) return context.Invoke();
        var token = RequestContext.Get(ClientSession.RequestContextKey) as string;
        // Grain-to-grain calls made for this one need not carry the token on.
        RequestContext.Remove(ClientSession.RequestContextKey);
        if (string.IsNullOrEmpty(token))
            throw new TimeFusionException(SqlState.InvalidAuthorizationSpecification, "SDK clients must log in (TimeFusionClient.ConnectAsync with a user and password)");
        var authenticator = services.GetService<IClientAuthenticator>()
            ?? throw new TimeFusionException(SqlState.InvalidAuthorizationSpecification, "this server accepts no SDK logins");
        var caller = authenticator.Verify(token);
        if (target != typeof(IQueryGatewayGrain))
        {
            // Table and catalog grains check no grants of their own: only an admin (who may do anything) reaches them.
            if (!caller.IsAdmin) throw new TimeFusionException(SqlState.InsufficientPrivilege, "SDK clients other than admins may only call the query gateway");
            return context.Invoke();
        }
        var request = context.Request;
        for (var i = 0; i < request.GetArgumentCount(); i++)
        {
            if (request.GetArgument(i) is Caller) request.SetArgument(i, caller);
        }
        return context.Invoke();
    }

    // Our grain interfaces (table, catalog, …) are for the silos only; Orleans' own system interfaces are left to Orleans.
    private static bool IsOurs(Type? type) => type is null || type.Assembly == typeof(IQueryGatewayGrain).Assembly;
}
