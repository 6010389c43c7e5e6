using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Protocol.Flight;
using TimeFusion.Silo.Protocol.Otlp.Grpc;
using TimeFusion.Silo.Protocol.Otlp.Http;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Protocol.Otlp;

/// <summary>
/// Serves the OTLP receiver: OTLP/HTTP on <see cref="OtlpOptions.HttpPort"/> (HTTP/1.1, and HTTP/2 with prior
/// knowledge) and OTLP/gRPC on <see cref="OtlpOptions.GrpcPort"/> (HTTP/2 without TLS), both on
/// <see cref="OtlpOptions.Host"/>, as a <see cref="DoorWebHost"/>; tests start it the same way against any
/// <see cref="IGrainFactory"/>.
/// </summary>
public sealed class OtlpEndpointHost : DoorWebHost
{
    private readonly IGrainFactory _grains;
    private readonly UserDirectory _users;
    private readonly IOptions<OtlpOptions> _options;
    private readonly FlightBearerTokens _tokens;
    private readonly LoginThrottle _throttle;
    private ListenOptions? _http, _grpc;

    /// <summary>Creates the endpoint (started by the host, or by <see cref="DoorWebHost.StartAsync"/>).</summary>
    /// <remarks><paramref name="tokens"/>: the silo's Flight bearer tokens, accepted here too (<c>Authorization: Bearer …</c>);
    /// <paramref name="throttle"/>: the silo's login back-off, shared with PostgreSQL and Flight.</remarks>
    public OtlpEndpointHost(IGrainFactory grains, UserDirectory users, IOptions<OtlpOptions> options,
        ILoggerFactory? loggerFactory = null, FlightBearerTokens? tokens = null, LoginThrottle? throttle = null)
        : base(loggerFactory ?? NullLoggerFactory.Instance)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(options);
        _grains = grains;
        _users = users;
        _options = options;
        _tokens = tokens ?? new FlightBearerTokens(Microsoft.Extensions.Options.Options.Create(new FlightEndpointOptions()));
        _throttle = throttle ?? LoginThrottle.CreateDefault();
    }

    /// <summary>The bound OTLP/HTTP address once started (useful with port 0).</summary>
    public IPEndPoint? HttpEndPoint { get; private set; }

    /// <summary>The bound OTLP/gRPC address once started (useful with port 0).</summary>
    public IPEndPoint? GrpcEndPoint { get; private set; }

    /// <inheritdoc />
    protected override bool Enabled => _options.Value.Enabled;

    /// <inheritdoc />
    protected override void ConfigureKestrel(KestrelServerOptions kestrel)
    {
        var options = _options.Value;
        var address = IPAddress.Parse(options.Host);
        kestrel.Listen(address, options.HttpPort, listen => { listen.Protocols = HttpProtocols.Http1AndHttp2; _http = listen; });
        kestrel.Listen(address, options.GrpcPort, listen => { listen.Protocols = HttpProtocols.Http2; _grpc = listen; });
        // OtlpRequestBody enforces MaxRequestBytes itself (before and after gzip) and answers 413 in OTLP's form.
        kestrel.Limits.MaxRequestBodySize = null;
        // Exports are large single messages (an 8,192-record export is a few MB) and one gRPC channel multiplexes
        // every exporter thread over one connection: Kestrel's default windows (1 MiB per connection, 768 KiB per
        // stream) made senders wait for window updates.
        kestrel.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
        kestrel.Limits.Http2.InitialStreamWindowSize = 8 * 1024 * 1024;
    }

    /// <inheritdoc />
    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddRoutingCore();
        services.AddSingleton(_grains);
        services.AddSingleton(_users);
        services.AddSingleton(_options);
        services.AddSingleton(_tokens);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_throttle);
        services.AddSingleton<FlightAuthenticator>();
        services.AddSingleton<OtlpReceiver>();
        services.AddGrpc(g =>
        {
            g.MaxReceiveMessageSize = _options.Value.MaxRequestBytes;
            g.EnableDetailedErrors = false;
        });
    }

    /// <inheritdoc />
    protected override void Map(WebApplication app)
    {
        app.UseRouting();
        app.MapOtlpHttp();
        app.MapGrpcService<OtlpTraceGrpcService>();
        app.MapGrpcService<OtlpLogsGrpcService>();
        app.MapGrpcService<OtlpMetricsGrpcService>();
    }

    /// <inheritdoc />
    protected override void Started(WebApplication app)
    {
        // Kestrel writes the port it bound (for port 0) back into each ListenOptions.
        var address = IPAddress.Parse(_options.Value.Host);
        HttpEndPoint = new IPEndPoint(address, _http!.IPEndPoint!.Port);
        GrpcEndPoint = new IPEndPoint(address, _grpc!.IPEndPoint!.Port);
        LoggerFactory.CreateLogger<OtlpEndpointHost>().LogInformation("OTLP receiver listening on {Http} (HTTP) and {Grpc} (gRPC)", HttpEndPoint, GrpcEndPoint);
    }
}
