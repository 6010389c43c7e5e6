using System.Net;
using System.Text;
using Grpc.Core;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Authenticates Flight calls against the server's users (<see cref="UserDirectory"/>, shared with PostgreSQL):
/// HTTP Basic (<c>authorization: Basic base64(user:password)</c>) on every call, or a bearer token issued by
/// <c>Handshake</c> (<see cref="FlightBearerTokens"/>). Password checks go through the login back-off shared with
/// PostgreSQL (<see cref="LoginThrottle"/>), per user name and per client address.
/// </summary>
public sealed class FlightAuthenticator(UserDirectory users, FlightBearerTokens tokens, LoginThrottle throttle)
{
    /// <summary>The authenticated user of a call; throws <see cref="RpcException"/> (Unauthenticated) otherwise.</summary>
    public async ValueTask<TimeFusionUser> AuthenticateAsync(ServerCallContext context)
    {
        var (user, error) = await AuthenticateHeaderAsync(context.RequestHeaders.GetValue("authorization"), AddressOf(context.Peer),
            context.CancellationToken);
        return user ?? throw Unauthenticated(error);
    }

    /// <summary>
    /// The user an <c>Authorization</c> header value (Basic or Bearer) names when its credential holds; null and the
    /// reason otherwise. Every door that speaks HTTP authorization (Flight, OTLP) authenticates through this, and so
    /// through the login back-off.
    /// </summary>
    public async ValueTask<(TimeFusionUser? User, string Error)> AuthenticateHeaderAsync(string? header, IPAddress? address,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(header))
            return (null, "authentication required: send 'authorization: Basic base64(user:password)'");
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var user = await AuthenticateBasicAsync(header["Basic ".Length..].Trim(), address, cancellationToken);
            return (user, user is null ? "password authentication failed" : "");
        }
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var name = tokens.Verify(header["Bearer ".Length..].Trim());
            var user = name is null ? null : Find(name);
            return (user, user is null ? "invalid or expired bearer token" : "");
        }
        return (null, "unsupported authorization scheme; use Basic or a Handshake bearer token");
    }

    /// <summary>
    /// The user named by a Basic credential (base64 of <c>user:password</c>) when the password matches; null otherwise.
    /// Waits its turn first when the name or the address is in login back-off.
    /// </summary>
    public async ValueTask<TimeFusionUser?> AuthenticateBasicAsync(string base64Credential, IPAddress? address, CancellationToken cancellationToken)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(base64Credential));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':');
        if (colon <= 0) return null;
        var name = decoded[..colon];
        await throttle.WaitTurnAsync(name, address, cancellationToken);
        var user = users.Verify(name, decoded[(colon + 1)..]);
        if (user is null) throttle.Failed("Flight", name, address);
        else throttle.Succeeded(name, address);
        return user;
    }

    /// <summary>The IP address of a gRPC peer (<c>ipv4:127.0.0.1:5000</c>, <c>ipv6:[::1]:5000</c>); null when it has none.</summary>
    public static IPAddress? AddressOf(string? peer)
    {
        if (string.IsNullOrEmpty(peer)) return null;
        var colon = peer.IndexOf(':');
        var rest = colon >= 0 ? peer[(colon + 1)..] : peer;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            return close > 0 && IPAddress.TryParse(rest[1..close], out var v6) ? v6 : null;
        }
        var last = rest.LastIndexOf(':');
        return IPAddress.TryParse(last > 0 ? rest[..last] : rest, out var v4) ? v4 : null;
    }

    /// <summary>The configured user of that name, or null.</summary>
    public TimeFusionUser? Find(string name) => users.Find(name);

    private static RpcException Unauthenticated(string message) => new(new Status(StatusCode.Unauthenticated, message));
}
