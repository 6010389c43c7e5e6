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
    public TimeFusionUser Authenticate(ServerCallContext context) =>
        AuthenticateHeader(context.RequestHeaders.GetValue("authorization"), out var error) ?? throw Unauthenticated(error);

    /// <summary>
    /// The user an <c>Authorization</c> header value (Basic or Bearer) names when its credential holds; null and the
    /// reason otherwise. Every door that speaks HTTP authorization (Flight, OTLP) authenticates through this.
    /// </summary>
    public TimeFusionUser? AuthenticateHeader(string? header, out string error)
    {
        error = "";
        if (string.IsNullOrEmpty(header))
        {
            error = "authentication required: send 'authorization: Basic base64(user:password)'";
            return null;
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var user = AuthenticateBasic(header["Basic ".Length..].Trim());
            if (user is null) error = "password authentication failed";
            return user;
        }
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var name = tokens.Verify(header["Bearer ".Length..].Trim());
            var user = name is null ? null : Find(name);
            if (user is null) error = "invalid or expired bearer token";
            return user;
        }
        error = "unsupported authorization scheme; use Basic or a Handshake bearer token";
        return null;
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
