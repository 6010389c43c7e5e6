using Microsoft.Extensions.DependencyInjection;
using TimeFusion.Hosting;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Protocol.Otlp;

/// <summary>Registers the OTLP receiver in a host.</summary>
public static class OtlpServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="OtlpEndpointHost"/> as a hosted service with options bound from <c>TimeFusion:Otlp</c> and
    /// validated at start. It needs an <see cref="IGrainFactory"/> (the silo's); users come from
    /// <c>TimeFusion:Users</c> (<see cref="UserDirectory"/>), as for PostgreSQL and Flight.
    /// </summary>
    public static IServiceCollection AddTimeFusionOtlp(this IServiceCollection services)
    {
        services.AddTimeFusionUsers();
        services.AddTimeFusionOptions<OtlpOptions, OtlpOptionsValidator>(OtlpOptions.Section);
        if (services.Any(d => d.ServiceType == typeof(OtlpEndpointHost))) return services;
        services.AddSingleton<OtlpEndpointHost>();
        services.AddHostedService(sp => sp.GetRequiredService<OtlpEndpointHost>());
        return services;
    }
}
