using System.Security.Cryptography;
using System.Text;

namespace TimeFusion.Silo.Protocol.Postgres.Auth;

/// <summary>
/// A SCRAM-SHA-256 verifier (RFC 5802/7677): salt, iteration count, StoredKey and ServerKey. The server
/// keeps only this, never the password. Text form as PostgreSQL stores it in <c>pg_authid</c>:
/// <c>SCRAM-SHA-256$&lt;iterations&gt;:&lt;salt base64&gt;$&lt;StoredKey base64&gt;:&lt;ServerKey base64&gt;</c>.
/// </summary>
public sealed class ScramSecret
{
    private const string Prefix = "SCRAM-SHA-256$";

    private ScramSecret(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey)
    {
        Iterations = iterations;
        Salt = salt;
        StoredKey = storedKey;
        ServerKey = serverKey;
    }

    /// <summary>PBKDF2 iteration count.</summary>
    public int Iterations { get; }

    /// <summary>The salt.</summary>
    public byte[] Salt { get; }

    /// <summary>SHA-256(ClientKey).</summary>
    public byte[] StoredKey { get; }

    /// <summary>HMAC(SaltedPassword, "Server Key").</summary>
    public byte[] ServerKey { get; }

    /// <summary>Creates a verifier for a password with a fresh random 16-byte salt.</summary>
    public static ScramSecret Create(string password, int iterations = 4096) =>
        Derive(password, RandomNumberGenerator.GetBytes(16), iterations);

    /// <summary>Derives the verifier of a password for a given salt and iteration count.</summary>
    public static ScramSecret Derive(string password, byte[] salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(salt);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var salted = SaltedPassword(password, salt, iterations);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        CryptographicOperations.ZeroMemory(salted);
        CryptographicOperations.ZeroMemory(clientKey);
        return new ScramSecret(iterations, salt, storedKey, serverKey);
    }

    /// <summary>
    /// A verifier from keys given directly (no PBKDF2): the stand-in for an unknown user, whose salt and keys are
    /// derived from its name so every attempt for that name looks alike and costs what a known user's costs.
    /// </summary>
    internal static ScramSecret FromKeys(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) =>
        new(iterations, salt, storedKey, serverKey);

    /// <summary>Parses the PostgreSQL text form; false when <paramref name="text"/> is not a SCRAM-SHA-256 verifier.</summary>
    public static bool TryParse(string? text, out ScramSecret secret)
    {
        secret = null!;
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var parts = text[Prefix.Length..].Split('$');
        if (parts.Length != 2)
        {
            return false;
        }
        var head = parts[0].Split(':');
        var keys = parts[1].Split(':');
        if (head.Length != 2 || keys.Length != 2 || !int.TryParse(head[0], out var iterations) || iterations < 1)
        {
            return false;
        }
        try
        {
            var salt = Convert.FromBase64String(head[1]);
            var stored = Convert.FromBase64String(keys[0]);
            var server = Convert.FromBase64String(keys[1]);
            if (stored.Length != 32 || server.Length != 32 || salt.Length == 0)
            {
                return false;
            }
            secret = new ScramSecret(iterations, salt, stored, server);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="password"/> matches this verifier (constant time in the comparison).</summary>
    public bool Verify(string password)
    {
        var other = Derive(password, Salt, Iterations);
        return CryptographicOperations.FixedTimeEquals(other.StoredKey, StoredKey)
            && CryptographicOperations.FixedTimeEquals(other.ServerKey, ServerKey);
    }

    /// <summary>The PostgreSQL text form.</summary>
    public override string ToString() =>
        $"{Prefix}{Iterations}:{Convert.ToBase64String(Salt)}${Convert.ToBase64String(StoredKey)}:{Convert.ToBase64String(ServerKey)}";

    internal static byte[] SaltedPassword(string password, byte[] salt, int iterations)
    {
        // SASLprep is approximated by NFKC normalisation (what common clients apply); ASCII passwords are unaffected.
        var normalized = password.IsNormalized(NormalizationForm.FormKC) ? password : password.Normalize(NormalizationForm.FormKC);
        var bytes = Encoding.UTF8.GetBytes(normalized);
        try
        {
            return Rfc2898DeriveBytes.Pbkdf2(bytes, salt, iterations, HashAlgorithmName.SHA256, 32);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}
