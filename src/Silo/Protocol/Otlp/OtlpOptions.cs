namespace TimeFusion.Silo.Protocol.Otlp;

/// <summary>Settings of the OTLP receiver (OTLP/HTTP and OTLP/gRPC), bound from <c>TimeFusion:Otlp</c>.</summary>
public sealed class OtlpOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "TimeFusion:Otlp";

    /// <summary>Whether the receiver starts at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The address to listen on. Default <c>127.0.0.1</c>: the embedded default only serves this host.
    /// Use <c>0.0.0.0</c> or <c>::</c> to serve other hosts (every request still authenticates).
    /// </summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The OTLP/HTTP port (<c>POST /v1/traces</c>, <c>/v1/logs</c>, <c>/v1/metrics</c>). Default 4318; 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 4318;

    /// <summary>The OTLP/gRPC port (HTTP/2 without TLS). Default 4317; 0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 4317;

    /// <summary>
    /// The largest export accepted, in bytes, on the wire and again after gzip is undone (HTTP gets 413, gRPC
    /// RESOURCE_EXHAUSTED). Default 16 MiB.
    /// </summary>
    public int MaxRequestBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>What a throttled sender is told to wait (HTTP <c>Retry-After</c>, gRPC <c>RetryInfo</c>). Default 2 s.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(2);
}
