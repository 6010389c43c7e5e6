namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>Settings of the PostgreSQL wire protocol listener (bound from <c>TimeFusion:Postgres</c>).</summary>
public sealed class PostgresServerOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "TimeFusion:Postgres";

    /// <summary>Whether the listener starts at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The address to listen on. Default <c>127.0.0.1</c>: the embedded default only serves this host.
    /// Use <c>0.0.0.0</c> or <c>::</c> to serve other hosts (every connection still authenticates).
    /// </summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>The TCP port. Default 5432; 0 picks a free port (see <see cref="PostgresServer.LocalEndPoint"/>).</summary>
    public int Port { get; set; } = 5432;

    /// <summary>Authenticated connections served at once; more get <c>53300 too_many_connections</c>. Default 1000.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>
    /// Of <see cref="MaxConnections"/>, the slots only admins may take (PostgreSQL's <c>superuser_reserved_connections</c>),
    /// so an admin can always log in to look. Default 3.
    /// </summary>
    public int ReservedAdminConnections { get; set; } = 3;

    /// <summary>Connections one (non-admin) user may hold at once; more get <c>53300</c>. 0: no per-user limit. Default 250.</summary>
    public int MaxConnectionsPerUser { get; set; } = 250;

    /// <summary>
    /// Connections still negotiating or authenticating at once. A new one beyond this ends the oldest such connection,
    /// so idle unauthenticated sockets cannot keep anybody out. Default 256.
    /// </summary>
    public int MaxStartupConnections { get; set; } = 256;

    /// <summary>
    /// Optional TLS (<c>TimeFusion:Postgres:Tls:CertificatePath</c>, <c>…:KeyPath</c>, <c>…:Password</c>): with a certificate
    /// an SSLRequest is answered 'S' and the connection continues over TLS (psql <c>sslmode=require</c>); without, 'N'.
    /// </summary>
    public TimeFusion.Silo.Security.TlsOptions Tls { get; set; } = new();

    /// <summary>The largest frontend message accepted; a longer one closes the connection. Default 64 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>The largest startup packet accepted. Default 10 KiB.</summary>
    public int MaxStartupPacketBytes { get; set; } = 10 * 1024;

    /// <summary>Time a client has from connecting to finishing authentication. Default 10 s.</summary>
    public TimeSpan AuthenticationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Default <c>statement_timeout</c> of a session (clients may <c>SET</c> it); zero disables. Default 60 s.</summary>
    public TimeSpan StatementTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Output buffered per connection before it is written to the socket. Default 32 KiB.</summary>
    public int OutputFlushBytes { get; set; } = 32 * 1024;

    /// <summary>
    /// Whether parameterized <c>INSERT … VALUES ($1, …)</c> statements outside a transaction block run from a plan made once
    /// per statement (the Arrow batch built from the bound values) rather than substituting, parsing and casting the
    /// statement on every execution. Default true; false is for comparing the two in benchmarks.
    /// </summary>
    public bool InsertPlans { get; set; } = true;

    /// <summary>
    /// Whether a planned INSERT whose table grain is active on this silo goes straight into the table's engine, without
    /// an Orleans call (same guarantees: acknowledged once durable, grants checked by the session). <c>false</c> only
    /// for benchmarks and diagnosis.
    /// </summary>
    public bool LocalInserts { get; set; } = true;

    /// <summary>Rows per Arrow batch handed to the backend during COPY FROM STDIN. Default 16,384.</summary>
    public int CopyBatchRows { get; set; } = 16 * 1024;

    /// <summary>Approximate bytes of input per Arrow batch during COPY FROM STDIN (whichever limit comes first). Default 8 MiB.</summary>
    public int CopyBatchBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>The <c>server_version</c> reported to clients (drivers parse its numeric prefix). Default <c>15.0 (TimeFusion)</c>.</summary>
    public string ServerVersion { get; set; } = "15.0 (TimeFusion)";

    /// <summary>PBKDF2 iterations for SCRAM secrets derived from plain passwords. Default 4096.</summary>
    public int ScramIterations { get; set; } = 4096;

    /// <summary>How long <see cref="PostgresServer.StopAsync"/> lets running connections finish before closing them. Default 5 s.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}
