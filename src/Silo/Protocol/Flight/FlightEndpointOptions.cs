namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>Settings of the Arrow Flight (gRPC) endpoint, bound from <c>TimeFusion:Flight</c>.</summary>
public sealed class FlightEndpointOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "TimeFusion:Flight";

    /// <summary>Whether the endpoint starts at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The address to listen on. Default <c>127.0.0.1</c>: the embedded default only serves this host.
    /// Use <c>0.0.0.0</c> or <c>::</c> to serve other hosts (every call still authenticates).
    /// </summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port (HTTP/2 without TLS). Default 50051; 0 picks a free port (see <see cref="FlightEndpointHost.LocalEndPoint"/>).</summary>
    public int Port { get; set; } = 50051;

    /// <summary>Optional TLS (<c>TimeFusion:Flight:Tls:CertificatePath</c>, …): with a certificate the endpoint serves HTTP/2 over TLS only.</summary>
    public TimeFusion.Silo.Security.TlsOptions Tls { get; set; } = new();

    /// <summary>The largest gRPC message accepted (one DoPut batch). Default 64 MiB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// DoGet splits result batches larger than this into row slices, so each gRPC message stays under common
    /// client limits (Grpc.Net.Client accepts 4 MiB by default). Default 2 MiB.
    /// </summary>
    public int TargetResponseMessageBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>
    /// DoPut reads each batch's body straight out of gRPC's buffer into the array the table keeps (one copy, as the
    /// SDK's batches: <see cref="FlightPutService"/>). False serves DoPut with Apache.Arrow.Flight's reader (the body
    /// parsed into an array of its own, then copied again by the table), the path before session 14. Default true.
    /// </summary>
    public bool ReceivePutInPlace { get; set; } = true;

    /// <summary>
    /// The HTTP/2 flow-control window of each call (how much a client may send before the server has read it): 8 MiB, so
    /// that an 8 K-row full-width batch (5.4 MB) goes out without waiting for window updates. With Kestrel's 768 KiB a
    /// DoPut client stops for updates ~14 times per such batch, each a round of thread hops on both sides; at 256 pairs
    /// under heavy load (session 16, no flush in the burst) that cost the client 3–3.5 µs/row and the silo 1.3–1.6 µs/row
    /// more CPU and 0.53–0.61× the rows/s; at lower load and at 16 pairs no rate difference showed either way (see
    /// docs/BENCHMARKS.md). gRPC assembles each message whole before DoPut reads it anyway, so what a call can make the
    /// server buffer is the larger of this window and <see cref="MaxReceiveMessageBytes"/> either way.
    /// Default 8,388,608; 65,535 at least.
    /// </summary>
    public int Http2StreamWindowBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>The HTTP/2 flow-control window shared by all calls of one connection. Default 16,777,216 (two calls' windows); 65,535 at least.</summary>
    public int Http2ConnectionWindowBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>How long a bearer token from <c>Handshake</c> stays valid. Default 1 hour.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);
}
