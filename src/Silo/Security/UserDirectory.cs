using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Protocol.Postgres.Auth;

namespace TimeFusion.Silo.Security;

/// <summary>
/// The server's users, shared by the PostgreSQL and Flight endpoints: looks a user up by name and verifies a password
/// against the configured plain password or SCRAM verifier. Successful SCRAM verifications are remembered (as digests,
/// never passwords) so repeat logins stay cheap.
/// </summary>
public sealed class UserDirectory(IOptions<TimeFusionUsersOptions> options)
{
    private const int MaxRemembered = 4096;

    // Key: SHA-256 over (user, configured secret, password); including the secret means a changed one is verified afresh.
    private readonly ConcurrentDictionary<string, byte> _verified = new(StringComparer.Ordinal);

    /// <summary>Every user (the configured ones, or the embedded default admin).</summary>
    public IReadOnlyList<TimeFusionUser> Users => options.Value.Effective();

    /// <summary>The user of that name, or null.</summary>
    public TimeFusionUser? Find(string name) => Users.FirstOrDefault(u => u.Name == name);

    /// <summary>The user of that name when <paramref name="password"/> is theirs; null otherwise.</summary>
    public TimeFusionUser? Verify(string name, string password)
    {
        var user = Find(name);
        return user is not null && PasswordMatches(user, password) ? user : null;
    }

    private bool PasswordMatches(TimeFusionUser user, string password)
    {
        var configured = user.PasswordOrScramSecret ?? "";
        if (!ScramSecret.TryParse(configured, out var secret))
        {
            // Fixed-size digests: the comparison time does not depend on where the strings differ.
            return configured.Length > 0 && CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(password)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
        }
        var key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes($"{user.Name}\0{configured}\0{password}")));
        if (_verified.ContainsKey(key)) return true;
        // PBKDF2 with the verifier's salt and iterations: milliseconds per call, hence the memo.
        if (!secret.Verify(password)) return false;
        if (_verified.Count >= MaxRemembered) _verified.Clear();
        _verified.TryAdd(key, 0);
        return true;
    }
}
