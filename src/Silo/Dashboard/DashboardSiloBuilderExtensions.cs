using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Dashboard;
using TimeFusion.Hosting;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Dashboard;

/// <summary>Wires the Orleans Dashboard into a TimeFusion silo.</summary>
public static class DashboardSiloBuilderExtensions
{
    /// <summary>
    /// With <c>TimeFusion:Dashboard:Enabled</c>, adds the Orleans Dashboard to the silo (its grain-call profiler and
    /// counters) and serves it on <c>TimeFusion:Dashboard:Host</c>/<c>Port</c> to admin users (HTTP Basic). Off, it adds
    /// nothing but the settings' check: no profiler, nothing listening.
    /// </summary>
    public static ISiloBuilder UseTimeFusionDashboard(this ISiloBuilder silo)
    {
        silo.Services.AddTimeFusionOptions<TimeFusionDashboardOptions, TimeFusionDashboardOptionsValidator>(TimeFusionDashboardOptions.Section);
        // Read now: the profiler and the dashboard's grain service exist only when it is on.
        var settings = silo.Configuration.GetSection(TimeFusionDashboardOptions.Section).Get<TimeFusionDashboardOptions>() ?? new TimeFusionDashboardOptions();
        if (!settings.Enabled) return silo;

        var before = silo.Services.Count;
        silo.AddDashboard(o => o.CounterUpdateIntervalMs = (int)Math.Max(100, settings.CounterUpdateInterval.TotalMilliseconds));
        var assembly = typeof(DashboardOptions).Assembly;
        var types = silo.Services.Skip(before).Select(d => d.ServiceType)
            .Where(t => t.Assembly == assembly && !t.IsGenericTypeDefinition).Distinct().ToList();
        silo.Services.AddSingleton(new DashboardServiceTypes(types));
        silo.Services.AddTimeFusionUsers();
        silo.Services.AddSingleton<DashboardEndpointHost>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<DashboardEndpointHost>());
        return silo;
    }
}
