using System.Security.Cryptography;
using System.Text;

namespace TimeFusion.Silo.Protocol.Postgres.Auth;

/// <summary>
/// The server side of one SCRAM-SHA-256 exchange without channel binding (RFC 5802 §5, RFC 7677).
/// Clients that require channel binding (<c>p=…</c>) are refused: we advertise only SCRAM-SHA-256.
/// </summary>
internal sealed class ScramServerExchange
{
    private readonly ScramSecret _secret;
    private readonly string _gs2Header;
    private readonly string _clientFirstBare;
    private readonly string _serverFirst;
    private readonly string _nonce;

    private ScramServerExchange(ScramSecret secret, string gs2Header, string clientFirstBare, string serverFirst, string nonce)
    {
        _secret = secret;
        _gs2Header = gs2Header;
        _clientFirstBare = clientFirstBare;
        _serverFirst = serverFirst;
        _nonce = nonce;
    }

    /// <summary>The server-first-message to send.</summary>
    public string ServerFirstMessage => _serverFirst;

    /// <summary>Parses the client-first-message and prepares the server-first-message.</summary>
    /// <exception cref="ScramException">A malformed or unsupported client message.</exception>
    public static ScramServerExchange Start(ScramSecret secret, string clientFirst) =>
        Start(secret, clientFirst, Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)));

    /// <summary>As <see cref="Start(ScramSecret, string)"/> with a given server nonce (tests use RFC 7677's).</summary>
    internal static ScramServerExchange Start(ScramSecret secret, string clientFirst, string serverNonce)
    {
        // gs2-header = cbind-flag "," [authzid] ","
        var firstComma = clientFirst.IndexOf(',');
        var secondComma = firstComma < 0 ? -1 : clientFirst.IndexOf(',', firstComma + 1);
        if (firstComma < 0 || secondComma < 0)
        {
            throw new ScramException("malformed SCRAM message (missing GS2 header)");
        }
        var flag = clientFirst[..firstComma];
        if (flag.StartsWith("p=", StringComparison.Ordinal))
        {
            throw new ScramException("channel binding is not supported by this server");
        }
        if (flag != "n" && flag != "y")
        {
            throw new ScramException("malformed SCRAM message (invalid channel binding flag)");
        }
        var authzid = clientFirst[(firstComma + 1)..secondComma];
        if (authzid.Length > 0)
        {
            throw new ScramException("SCRAM authorization identities are not supported");
        }
        var gs2Header = clientFirst[..(secondComma + 1)];
        var bare = clientFirst[(secondComma + 1)..];
        var attributes = ParseAttributes(bare);
        if (attributes.Count < 2 || attributes[0].Key != 'n' || attributes[1].Key != 'r')
        {
            throw new ScramException("malformed SCRAM message (expected n= and r= attributes)");
        }
        if (attributes.Any(a => a.Key == 'm'))
        {
            throw new ScramException("SCRAM mandatory extensions are not supported");
        }
        var clientNonce = attributes[1].Value;
        if (clientNonce.Length == 0 || clientNonce.Any(c => c < 0x21 || c > 0x7E || c == ','))
        {
            throw new ScramException("malformed SCRAM message (invalid nonce)");
        }
        var nonce = clientNonce + serverNonce;
        var serverFirst = $"r={nonce},s={Convert.ToBase64String(secret.Salt)},i={secret.Iterations}";
        return new ScramServerExchange(secret, gs2Header, bare, serverFirst, nonce);
    }

    /// <summary>
    /// Checks the client-final-message. Returns the server-final-message on success, null when the proof
    /// is wrong (wrong password).
    /// </summary>
    /// <exception cref="ScramException">A malformed client message.</exception>
    public string? Finish(string clientFinal)
    {
        var proofIndex = clientFinal.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofIndex < 0)
        {
            throw new ScramException("malformed SCRAM message (missing proof)");
        }
        var withoutProof = clientFinal[..proofIndex];
        var attributes = ParseAttributes(withoutProof);
        if (attributes.Count < 2 || attributes[0].Key != 'c' || attributes[1].Key != 'r')
        {
            throw new ScramException("malformed SCRAM message (expected c= and r= attributes)");
        }
        byte[] channelBinding;
        byte[] proof;
        try
        {
            channelBinding = Convert.FromBase64String(attributes[0].Value);
            proof = Convert.FromBase64String(clientFinal[(proofIndex + 3)..]);
        }
        catch (FormatException)
        {
            throw new ScramException("malformed SCRAM message (invalid base64)");
        }
        if (!channelBinding.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(_gs2Header)))
        {
            throw new ScramException("SCRAM channel binding check failed");
        }
        if (attributes[1].Value != _nonce)
        {
            throw new ScramException("SCRAM nonce does not match");
        }
        if (proof.Length != 32)
        {
            throw new ScramException("malformed SCRAM proof");
        }
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        var clientSignature = HMACSHA256.HashData(_secret.StoredKey, authMessage);
        var clientKey = new byte[32];
        for (var i = 0; i < 32; i++)
        {
            clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        }
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(clientKey), _secret.StoredKey))
        {
            return null;
        }
        var serverSignature = HMACSHA256.HashData(_secret.ServerKey, authMessage);
        return "v=" + Convert.ToBase64String(serverSignature);
    }

    private static List<KeyValuePair<char, string>> ParseAttributes(string message)
    {
        var result = new List<KeyValuePair<char, string>>();
        foreach (var part in message.Split(','))
        {
            if (part.Length < 2 || part[1] != '=' || !char.IsAsciiLetter(part[0]))
            {
                throw new ScramException("malformed SCRAM message (bad attribute)");
            }
            result.Add(new(part[0], part[2..]));
        }
        return result;
    }
}

/// <summary>A malformed or unsupported SCRAM message.</summary>
internal sealed class ScramException(string message) : Exception(message);
