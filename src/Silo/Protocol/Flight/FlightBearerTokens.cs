using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Bearer tokens that Flight's <c>Handshake</c> hands out after a Basic login (what pyarrow's
/// <c>authenticate_basic_token</c> and ADBC expect): the user name and an expiry, signed with HMAC-SHA256 under a
/// key made when the endpoint starts. A token is good only on the silo that issued it, until it expires or the
/// process restarts; the user is looked up again on every call, so removing a user revokes its tokens.
/// </summary>
public sealed class FlightBearerTokens(IOptions<FlightEndpointOptions> options, TimeProvider? time = null)
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>A token for <paramref name="userName"/> valid for <see cref="FlightEndpointOptions.TokenLifetime"/>.</summary>
    public string Issue(string userName)
    {
        var name = Encoding.UTF8.GetBytes(userName);
        var body = new byte[8 + name.Length];
        BinaryPrimitives.WriteInt64BigEndian(body, (_time.GetUtcNow() + options.Value.TokenLifetime).ToUnixTimeSeconds());
        name.CopyTo(body, 8);
        return Base64Url(body) + "." + Base64Url(HMACSHA256.HashData(_key, body));
    }

    /// <summary>The user name a token was issued to, or null when it is malformed, forged or expired.</summary>
    public string? Verify(string token)
    {
        var dot = token.IndexOf('.');
        if (dot <= 0) return null;
        byte[] body, mac;
        try
        {
            body = FromBase64Url(token[..dot]);
            mac = FromBase64Url(token[(dot + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }
        if (body.Length < 8 || !CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(_key, body))) return null;
        if (BinaryPrimitives.ReadInt64BigEndian(body) < _time.GetUtcNow().ToUnixTimeSeconds()) return null;
        return Encoding.UTF8.GetString(body, 8, body.Length - 8);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
