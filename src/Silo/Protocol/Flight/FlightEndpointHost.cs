using System.Net;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Serves <see cref="TimeFusionFlightServer"/> over gRPC (HTTP/2, optionally over TLS) on <see cref="FlightEndpointOptions.Host"/>
/// and <see cref="FlightEndpointOptions.Port"/>, as a <see cref="DoorWebHost"/>; tests start it the same way against
/// any <see cref="IGrainFactory"/>.
/// </summary>
public sealed class FlightEndpointHost : DoorWebHost
{
    private readonly IGrainFactory _grains;
    private readonly UserDirectory _users;
    private readonly IOptions<FlightEndpointOptions> _options;
    private readonly FlightBearerTokens _tokens;
    private readonly TimeFusion.Grains.StatementCancellations _cancellations;
    private readonly TimeFusion.Grains.StatementAdmission _admission;
    private readonly LoginThrottle _throttle;

    /// <summary>Creates the endpoint (started by the host, or by <see cref="DoorWebHost.StartAsync"/>).</summary>
    /// <remarks>In a silo the statement registry and per-user slots are the silo's (shared with the PostgreSQL endpoint),
    /// and so are the bearer <paramref name="tokens"/> (the OTLP door accepts them too); without them the endpoint has its
    /// own (default limits).</remarks>
    public FlightEndpointHost(IGrainFactory grains, UserDirectory users, IOptions<FlightEndpointOptions> options,
        ILoggerFactory? loggerFactory = null, TimeFusion.Grains.StatementCancellations? cancellations = null,
        TimeFusion.Grains.StatementAdmission? admission = null, FlightBearerTokens? tokens = null, LoginThrottle? throttle = null)
        : base(loggerFactory ?? NullLoggerFactory.Instance)
    {
        _throttle = throttle ?? LoginThrottle.CreateDefault();
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(options);
        _grains = grains;
        _users = users;
        _options = options;
        _tokens = tokens ?? new FlightBearerTokens(options);
        _cancellations = cancellations ?? new TimeFusion.Grains.StatementCancellations();
        _admission = admission ?? new TimeFusion.Grains.StatementAdmission(Options.Create(new TimeFusion.Query.Execution.ExecutionOptions()));
    }

    /// <summary>The bound address and port once started (useful with <see cref="FlightEndpointOptions.Port"/> 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <inheritdoc />
    protected override bool Enabled => _options.Value.Enabled;

    /// <inheritdoc />
    protected override void ConfigureKestrel(KestrelServerOptions kestrel)
    {
        var options = _options.Value;
        kestrel.Listen(IPAddress.Parse(options.Host), options.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            // Optional TLS (HTTP/2 over TLS via ALPN): the same kind of certificate setting as the PostgreSQL endpoint.
            if (ServerCertificates.Load(options.Tls, FlightEndpointOptions.Section + ":Tls") is { } certificate) listen.UseHttps(certificate);
        });
        kestrel.Limits.MaxRequestBodySize = null; // DoPut is one long streaming request
        kestrel.Limits.Http2.InitialStreamWindowSize = options.Http2StreamWindowBytes;
        kestrel.Limits.Http2.InitialConnectionWindowSize = options.Http2ConnectionWindowBytes;
    }

    /// <inheritdoc />
    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddRoutingCore();
        services.AddSingleton(_grains);
        services.AddSingleton(_users);
        services.AddSingleton(_options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_cancellations);
        services.AddSingleton(_admission);
        services.AddSingleton(_tokens);
        services.AddSingleton(_throttle);
        services.AddSingleton<FlightAuthenticator>();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = _options.Value.MaxReceiveMessageBytes;
            grpc.Interceptors.Add<FlightIpcPreflightInterceptor>(); // hostile Arrow IPC is refused before Arrow parses it
            grpc.MaxSendMessageSize = null;
        }).AddFlightServer<TimeFusionFlightServer>();
        if (_options.Value.ReceivePutInPlace)
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<FlightPutService>, FlightPutMethodProvider>());
    }

    /// <inheritdoc />
    protected override void Map(WebApplication app)
    {
        app.UseRouting();
        app.MapFlightEndpoint();
        // DoPut's in-place reader answers the library's method path: a lower route order wins over the library's endpoint.
        if (_options.Value.ReceivePutInPlace)
            app.MapGrpcService<FlightPutService>().Add(endpoint => ((RouteEndpointBuilder)endpoint).Order = -1);
    }

    /// <inheritdoc />
    protected override void Started(WebApplication app)
    {
        LocalEndPoint = BoundEndPoint(app, IPAddress.Parse(_options.Value.Host), _options.Value.Port);
        LoggerFactory.CreateLogger<FlightEndpointHost>().LogInformation("Arrow Flight endpoint listening on {EndPoint}", LocalEndPoint);
    }
}
