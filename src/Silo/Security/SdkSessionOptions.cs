namespace TimeFusion.Silo.Security;

/// <summary>
/// SDK sessions (bound from <c>TimeFusion:Sdk</c>): an Orleans client logs in with a user's password and gets a token
/// signed with HMAC-SHA256 under <see cref="SessionSecret"/>, valid for <see cref="SessionLifetime"/>.
/// </summary>
public sealed class SdkSessionOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "TimeFusion:Sdk";

    /// <summary>
    /// The signing key, base64 of at least 32 bytes, the same on every silo of a cluster (required in cluster mode).
    /// Unset in single-node mode: a random key kept in <c>&lt;DataDirectory&gt;/sdk-session.key</c>.
    /// </summary>
    public string? SessionSecret { get; set; }

    /// <summary>How long a session token is valid (the SDK renews it before). Default 1 hour; 1 minute to 7 days.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The smallest key accepted, in bytes.</summary>
    public const int MinSecretBytes = 32;

    /// <summary>The configured key's bytes, or null when unset or not base64.</summary>
    public byte[]? SecretBytes()
    {
        if (string.IsNullOrWhiteSpace(SessionSecret)) return null;
        try
        {
            return Convert.FromBase64String(SessionSecret);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
