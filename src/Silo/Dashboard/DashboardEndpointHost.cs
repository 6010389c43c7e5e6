using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using TimeFusion.Silo.Protocol;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Dashboard;

/// <summary>
/// Serves the Orleans Dashboard (<c>MapOrleansDashboard</c>) over HTTP on <see cref="TimeFusionDashboardOptions.Host"/>
/// and <see cref="TimeFusionDashboardOptions.Port"/>, behind <see cref="DashboardBasicAuthentication"/>, as a
/// <see cref="DoorWebHost"/>; the dashboard's services live in the silo's container (registered by <c>AddDashboard</c>)
/// and are handed to it by <see cref="DashboardServiceTypes"/>.
/// </summary>
internal sealed class DashboardEndpointHost(IServiceProvider silo, DashboardServiceTypes forwarded, IOptions<TimeFusionDashboardOptions> options,
    UserDirectory users, LoginThrottle throttle, ILoggerFactory loggerFactory) : DoorWebHost(loggerFactory)
{
    /// <summary>The bound address and port once started.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <inheritdoc />
    protected override bool Enabled => options.Value.Enabled;

    /// <inheritdoc />
    protected override void ConfigureKestrel(KestrelServerOptions kestrel) => kestrel.Listen(IPAddress.Parse(options.Value.Host), options.Value.Port);

    /// <inheritdoc />
    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddRouting();
        // The dashboard's endpoints resolve its (internal) services per request: the silo's instances.
        foreach (var type in forwarded.Types) services.AddSingleton(type, _ => silo.GetRequiredService(type));
        services.AddSingleton(silo.GetRequiredService<IOptions<DashboardOptions>>());
        services.AddSingleton(new DashboardBasicAuthentication(users, throttle));
    }

    /// <inheritdoc />
    protected override void Map(WebApplication app)
    {
        app.Use(app.Services.GetRequiredService<DashboardBasicAuthentication>().InvokeAsync);
        app.UseRouting();
        app.MapOrleansDashboard();
    }

    /// <inheritdoc />
    protected override void Started(WebApplication app)
    {
        LocalEndPoint = BoundEndPoint(app, IPAddress.Parse(options.Value.Host), options.Value.Port);
        LoggerFactory.CreateLogger<DashboardEndpointHost>().LogInformation("Orleans Dashboard listening on http://{EndPoint}/ (admin users only)", LocalEndPoint);
    }
}

/// <summary>The service types <c>AddDashboard</c> registered in the silo's container that the dashboard's endpoints may ask for.</summary>
/// <param name="Types">Concrete (non-generic) types from the dashboard's own assembly.</param>
internal sealed record DashboardServiceTypes(IReadOnlyList<Type> Types);
