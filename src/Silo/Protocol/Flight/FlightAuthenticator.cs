using System.Text;
using Grpc.Core;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Authenticates Flight calls against the server's users (<see cref="UserDirectory"/>, shared with PostgreSQL):
/// HTTP Basic (<c>authorization: Basic base64(user:password)</c>) on every call, or a bearer token issued by
/// <c>Handshake</c> (<see cref="FlightBearerTokens"/>).
/// </summary>
public sealed class FlightAuthenticator(UserDirectory users, FlightBearerTokens tokens)
{
    /// <summary>The authenticated user of a call; throws <see cref="RpcException"/> (Unauthenticated) otherwise.</summary>
    public TimeFusionUser Authenticate(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        if (string.IsNullOrEmpty(header))
            throw Unauthenticated("authentication required: send 'authorization: Basic base64(user:password)'");
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateBasic(header["Basic ".Length..].Trim())
                ?? throw Unauthenticated("password authentication failed");
        }
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var name = tokens.Verify(header["Bearer ".Length..].Trim());
            return (name is null ? null : Find(name)) ?? throw Unauthenticated("invalid or expired bearer token");
        }
        throw Unauthenticated("unsupported authorization scheme; use Basic or a Handshake bearer token");
    }

    /// <summary>The user named by a Basic credential (base64 of <c>user:password</c>) when the password matches; null otherwise.</summary>
    public TimeFusionUser? AuthenticateBasic(string base64Credential)
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
        return colon <= 0 ? null : users.Verify(decoded[..colon], decoded[(colon + 1)..]);
    }

    /// <summary>The configured user of that name, or null.</summary>
    public TimeFusionUser? Find(string name) => users.Find(name);

    private static RpcException Unauthenticated(string message) => new(new Status(StatusCode.Unauthenticated, message));
}
