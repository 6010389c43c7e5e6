using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Dashboard;

/// <summary>
/// Serves the Orleans Dashboard (<c>MapOrleansDashboard</c>) over HTTP on <see cref="TimeFusionDashboardOptions.Host"/>
/// and <see cref="TimeFusionDashboardOptions.Port"/>, behind <see cref="DashboardBasicAuthentication"/>. Like the Flight
/// endpoint it is its own small Kestrel application beside the silo's generic host; the dashboard's services live in
/// the silo's container (registered by <c>AddDashboard</c>) and are handed to it by <see cref="DashboardServiceTypes"/>.
/// </summary>
internal sealed class DashboardEndpointHost(IServiceProvider silo, DashboardServiceTypes forwarded, IOptions<TimeFusionDashboardOptions> options,
    UserDirectory users, LoginThrottle throttle, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The bound address and port once started.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled || _app is not null) return;
        var address = IPAddress.Parse(settings.Host);

        // An empty builder: no configuration, console lifetime or hosted services of its own; logs go to the silo's.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(address, settings.Port));
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IHostLifetime, QuietHostLifetime>();
        builder.Services.AddRouting();
        // The dashboard's endpoints resolve its (internal) services per request: the silo's instances.
        foreach (var type in forwarded.Types) builder.Services.AddSingleton(type, _ => silo.GetRequiredService(type));
        builder.Services.AddSingleton(silo.GetRequiredService<IOptions<DashboardOptions>>());
        builder.Services.AddSingleton(new DashboardBasicAuthentication(users, throttle));

        var app = builder.Build();
        var authentication = app.Services.GetRequiredService<DashboardBasicAuthentication>();
        app.Use(authentication.InvokeAsync);
        app.UseRouting();
        app.MapOrleansDashboard();
        await app.StartAsync(cancellationToken);
        _app = app;

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        LocalEndPoint = new IPEndPoint(address, bound is null ? settings.Port : new Uri(bound).Port);
        loggerFactory.CreateLogger<DashboardEndpointHost>().LogInformation("Orleans Dashboard listening on http://{EndPoint}/ (admin users only)", LocalEndPoint);
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

/// <summary>The service types <c>AddDashboard</c> registered in the silo's container that the dashboard's endpoints may ask for.</summary>
/// <param name="Types">Concrete (non-generic) types from the dashboard's own assembly.</param>
internal sealed record DashboardServiceTypes(IReadOnlyList<Type> Types);
