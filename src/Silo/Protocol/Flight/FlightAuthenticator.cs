using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Backend;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Auth;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Authenticates Flight calls against the PostgreSQL endpoint's users (<see cref="PostgresUsersOptions"/>):
/// HTTP Basic (<c>authorization: Basic base64(user:password)</c>) on every call, or a bearer token issued by
/// <c>Handshake</c> (<see cref="FlightBearerTokens"/>). Users configured with a SCRAM secret are checked by deriving
/// the SCRAM keys from the password; successful derivations are remembered so repeat calls stay cheap.
/// </summary>
public sealed class FlightAuthenticator(IOptions<PostgresUsersOptions> users, FlightBearerTokens tokens)
{
    private const int MaxRemembered = 4096;

    // Key: SHA-256 over (user, configured secret, password). Holding a digest, never the password, and including the
    // configured secret means a changed secret or password is verified afresh.
    private readonly ConcurrentDictionary<string, byte> _verified = new(StringComparer.Ordinal);

    /// <summary>The authenticated user of a call; throws <see cref="RpcException"/> (Unauthenticated) otherwise.</summary>
    public PostgresUser Authenticate(ServerCallContext context)
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
    public PostgresUser? AuthenticateBasic(string base64Credential)
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
        var user = Find(decoded[..colon]);
        return user is not null && PasswordMatches(user, decoded[(colon + 1)..]) ? user : null;
    }

    /// <summary>The configured user of that name, or null.</summary>
    public PostgresUser? Find(string name) => users.Value.Effective().FirstOrDefault(u => u.Name == name);

    private bool PasswordMatches(PostgresUser user, string password)
    {
        if (!ScramSecret.TryParse(user.PasswordOrScramSecret, out var secret))
        {
            return CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(password)), SHA256.HashData(Encoding.UTF8.GetBytes(user.PasswordOrScramSecret)));
        }
        var key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes($"{user.Name}\0{user.PasswordOrScramSecret}\0{password}")));
        if (_verified.ContainsKey(key)) return true;
        // PBKDF2 with the secret's salt and iterations: milliseconds per call, hence the memo above.
        if (!secret.Verify(password)) return false;
        if (_verified.Count >= MaxRemembered) _verified.Clear();
        _verified.TryAdd(key, 0);
        return true;
    }

    private static RpcException Unauthenticated(string message) => new(new Status(StatusCode.Unauthenticated, message));
}
