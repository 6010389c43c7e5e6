using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TimeFusion.Silo.Protocol;

/// <summary>
/// A door served over HTTP (Flight, OTLP, the dashboard): its own small Kestrel application beside the silo's generic
/// host, so the silo keeps its generic host and each door listens only where configured. The application is built empty
/// (no appsettings, environment or command line of its own: the silo's configuration already produced the options; no
/// console lifetime: the silo owns Ctrl+C and SIGTERM), logs to the silo's logger factory, starts and stops with the
/// silo (or a test). A door says where it listens, what it serves and what its endpoints need.
/// </summary>
public abstract class DoorWebHost : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>Creates the host of a door logging to <paramref name="loggerFactory"/>.</summary>
    protected DoorWebHost(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        LoggerFactory = loggerFactory;
    }

    /// <summary>The silo's logger factory (the application's logs go there).</summary>
    protected ILoggerFactory LoggerFactory { get; }

    /// <summary>Whether the door is configured on; a door that is off starts nothing.</summary>
    protected abstract bool Enabled { get; }

    /// <summary>Where Kestrel listens and its limits.</summary>
    protected abstract void ConfigureKestrel(KestrelServerOptions kestrel);

    /// <summary>The services the door's endpoints need (logging and the lifetime are registered already).</summary>
    protected abstract void ConfigureServices(IServiceCollection services);

    /// <summary>The door's middleware and endpoints.</summary>
    protected abstract void Map(WebApplication app);

    /// <summary>Called once the application listens: record the bound addresses, log them.</summary>
    protected abstract void Started(WebApplication app);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled || _app is not null) return;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(ConfigureKestrel);
        builder.Services.AddSingleton(LoggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IHostLifetime, QuietHostLifetime>();
        ConfigureServices(builder.Services);
        var app = builder.Build();
        Map(app);
        await app.StartAsync(cancellationToken);
        _app = app;
        Started(app);
    }

    /// <summary>The address the application bound first, with the port Kestrel chose when <paramref name="configuredPort"/> was 0.</summary>
    protected static IPEndPoint BoundEndPoint(WebApplication app, IPAddress address, int configuredPort)
    {
        ArgumentNullException.ThrowIfNull(app);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return new IPEndPoint(address, bound is null ? configuredPort : new Uri(bound).Port);
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
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        GC.SuppressFinalize(this);
    }

    // The silo's host owns Ctrl+C and SIGTERM; a door's application only starts and stops with it.
    private sealed class QuietHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
