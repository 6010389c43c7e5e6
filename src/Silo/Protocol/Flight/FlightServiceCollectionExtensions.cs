using Microsoft.Extensions.DependencyInjection;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>Registers the Arrow Flight endpoint in a host.</summary>
public static class FlightServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="FlightEndpointHost"/> as a hosted service with options bound from <c>TimeFusion:Flight</c> and
    /// validated at start. It needs an <see cref="IGrainFactory"/> (the silo's) and the users it authenticates.
    /// </summary>
    public static IServiceCollection AddTimeFusionFlight(this IServiceCollection services)
    {
        services.AddTimeFusionOptions<FlightEndpointOptions, FlightEndpointOptionsValidator>(FlightEndpointOptions.Section);
        if (services.Any(d => d.ServiceType == typeof(FlightEndpointHost))) return services;
        services.AddSingleton<FlightEndpointHost>();
        services.AddHostedService(sp => sp.GetRequiredService<FlightEndpointHost>());
        return services;
    }
}
