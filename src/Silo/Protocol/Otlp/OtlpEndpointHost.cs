using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
/// <see cref="OtlpOptions.Host"/>. Like the Flight endpoint it runs its own small Kestrel application beside the
/// silo's generic host; tests start it the same way against any <see cref="IGrainFactory"/>.
/// </summary>
public sealed class OtlpEndpointHost : IHostedService, IAsyncDisposable
{
    private readonly IGrainFactory _grains;
    private readonly UserDirectory _users;
    private readonly IOptions<OtlpOptions> _options;
    private readonly FlightBearerTokens _tokens;
    private readonly ILoggerFactory _loggerFactory;
    private readonly LoginThrottle _throttle;
    private WebApplication? _app;

    /// <summary>Creates the endpoint (started by the host, or by <see cref="StartAsync"/>).</summary>
    /// <remarks><paramref name="tokens"/>: the silo's Flight bearer tokens, accepted here too (<c>Authorization: Bearer …</c>);
    /// <paramref name="throttle"/>: the silo's login back-off, shared with PostgreSQL and Flight.</remarks>
    public OtlpEndpointHost(IGrainFactory grains, UserDirectory users, IOptions<OtlpOptions> options,
        ILoggerFactory? loggerFactory = null, FlightBearerTokens? tokens = null, LoginThrottle? throttle = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(options);
        _grains = grains;
        _users = users;
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _tokens = tokens ?? new FlightBearerTokens(Microsoft.Extensions.Options.Options.Create(new FlightEndpointOptions()));
        _throttle = throttle ?? LoginThrottle.CreateDefault();
    }

    /// <summary>The bound OTLP/HTTP address once started (useful with port 0).</summary>
    public IPEndPoint? HttpEndPoint { get; private set; }

    /// <summary>The bound OTLP/gRPC address once started (useful with port 0).</summary>
    public IPEndPoint? GrpcEndPoint { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = _options.Value;
        if (!options.Enabled || _app is not null) return;
        var address = IPAddress.Parse(options.Host);

        ListenOptions? http = null, grpc = null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(address, options.HttpPort, listen => { listen.Protocols = HttpProtocols.Http1AndHttp2; http = listen; });
            k.Listen(address, options.GrpcPort, listen => { listen.Protocols = HttpProtocols.Http2; grpc = listen; });
            // OtlpRequestBody enforces MaxRequestBytes itself (before and after gzip) and answers 413 in OTLP's form.
            k.Limits.MaxRequestBodySize = null;
            // Exports are large single messages (an 8,192-record export is a few MB) and one gRPC channel multiplexes
            // every exporter thread over one connection: Kestrel's default windows (1 MiB per connection, 768 KiB per
            // stream) made senders wait for window updates.
            k.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
            k.Limits.Http2.InitialStreamWindowSize = 8 * 1024 * 1024;
        });
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IHostLifetime, QuietHostLifetime>();
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(_grains);
        builder.Services.AddSingleton(_users);
        builder.Services.AddSingleton(_options);
        builder.Services.AddSingleton(_tokens);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_throttle);
        builder.Services.AddSingleton<FlightAuthenticator>();
        builder.Services.AddSingleton<OtlpReceiver>();
        builder.Services.AddGrpc(g =>
        {
            g.MaxReceiveMessageSize = options.MaxRequestBytes;
            g.EnableDetailedErrors = false;
        });

        var app = builder.Build();
        app.UseRouting();
        app.MapOtlpHttp();
        app.MapGrpcService<OtlpTraceGrpcService>();
        app.MapGrpcService<OtlpLogsGrpcService>();
        app.MapGrpcService<OtlpMetricsGrpcService>();
        await app.StartAsync(cancellationToken);
        _app = app;

        // Kestrel writes the port it bound (for port 0) back into each ListenOptions.
        HttpEndPoint = new IPEndPoint(address, http!.IPEndPoint!.Port);
        GrpcEndPoint = new IPEndPoint(address, grpc!.IPEndPoint!.Port);
        _loggerFactory.CreateLogger<OtlpEndpointHost>().LogInformation("OTLP receiver listening on {Http} (HTTP) and {Grpc} (gRPC)", HttpEndPoint, GrpcEndPoint);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var app = Interlocked.Exchange(ref _app, null);
        if (app is null) return;
        await app.StopAsync(cancellationToken);
        await app.DisposeAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    // The silo's host owns Ctrl+C and SIGTERM; this inner application only starts and stops with it.
    private sealed class QuietHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
