namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>How a user proves who they are.</summary>
public enum PostgresAuthMethod
{
    /// <summary>SCRAM-SHA-256 (RFC 5802/7677, no channel binding): the password never crosses the wire. Default.</summary>
    ScramSha256 = 0,

    /// <summary>Cleartext password (only sensible on loopback or inside TLS terminated in front of the server).</summary>
    Cleartext = 1,
}
