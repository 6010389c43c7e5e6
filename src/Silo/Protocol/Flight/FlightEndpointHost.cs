using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Serves <see cref="TimeFusionFlightServer"/> over gRPC (HTTP/2 without TLS) on <see cref="FlightEndpointOptions.Host"/>
/// and <see cref="FlightEndpointOptions.Port"/>. It runs its own small Kestrel application, separate from the silo's
/// host, so the silo keeps its generic host and nothing else listens on HTTP; tests start it the same way against
/// any <see cref="IGrainFactory"/>.
/// </summary>
public sealed class FlightEndpointHost : IHostedService, IAsyncDisposable
{
    private readonly IGrainFactory _grains;
    private readonly UserDirectory _users;
    private readonly IOptions<FlightEndpointOptions> _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeFusion.Grains.StatementCancellations _cancellations;
    private readonly TimeFusion.Grains.StatementAdmission _admission;
    private WebApplication? _app;

    /// <summary>Creates the endpoint (started by the host, or by <see cref="StartAsync"/>).</summary>
    /// <remarks>In a silo the statement registry and per-user slots are the silo's (shared with the PostgreSQL endpoint);
    /// without them the endpoint has its own (default limits).</remarks>
    public FlightEndpointHost(IGrainFactory grains, UserDirectory users, IOptions<FlightEndpointOptions> options,
        ILoggerFactory? loggerFactory = null, TimeFusion.Grains.StatementCancellations? cancellations = null,
        TimeFusion.Grains.StatementAdmission? admission = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(options);
        _grains = grains;
        _users = users;
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _cancellations = cancellations ?? new TimeFusion.Grains.StatementCancellations();
        _admission = admission ?? new TimeFusion.Grains.StatementAdmission(Options.Create(new TimeFusion.Query.Execution.ExecutionOptions()));
    }

    /// <summary>The bound address and port once started (useful with <see cref="FlightEndpointOptions.Port"/> 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = _options.Value;
        if (!options.Enabled || _app is not null) return;
        var address = IPAddress.Parse(options.Host);

        // An empty builder: no appsettings, environment or command line of its own (the silo's configuration already
        // produced the options), no console lifetime, and logs go to the silo's logger factory.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(address, options.Port, listen => listen.Protocols = HttpProtocols.Http2);
            k.Limits.MaxRequestBodySize = null; // DoPut is one long streaming request
        });
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IHostLifetime, QuietHostLifetime>();
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(_grains);
        builder.Services.AddSingleton(_users);
        builder.Services.AddSingleton(_options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_cancellations);
        builder.Services.AddSingleton(_admission);
        builder.Services.AddSingleton<FlightBearerTokens>();
        builder.Services.AddSingleton<FlightAuthenticator>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxReceiveMessageBytes;
            grpc.Interceptors.Add<FlightIpcPreflightInterceptor>(); // hostile Arrow IPC is refused before Arrow parses it
            grpc.MaxSendMessageSize = null;
        }).AddFlightServer<TimeFusionFlightServer>();

        var app = builder.Build();
        app.UseRouting();
        app.MapFlightEndpoint();
        await app.StartAsync(cancellationToken);
        _app = app;

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var port = bound is null ? options.Port : new Uri(bound).Port;
        LocalEndPoint = new IPEndPoint(address, port);
        _loggerFactory.CreateLogger<FlightEndpointHost>().LogInformation("Arrow Flight endpoint listening on {EndPoint}", LocalEndPoint);
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
