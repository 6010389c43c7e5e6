using Microsoft.Extensions.DependencyInjection;
using TimeFusion.Hosting;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>Registers the Arrow Flight endpoint in a host.</summary>
public static class FlightServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="FlightEndpointHost"/> as a hosted service with options bound from <c>TimeFusion:Flight</c> and
    /// validated at start. It needs an <see cref="IGrainFactory"/> (the silo's); users come from
    /// <c>TimeFusion:Users</c> (<see cref="UserDirectory"/>), as for PostgreSQL.
    /// </summary>
    public static IServiceCollection AddTimeFusionFlight(this IServiceCollection services)
    {
        services.AddTimeFusionUsers();
        services.AddTimeFusionOptions<FlightEndpointOptions, FlightEndpointOptionsValidator>(FlightEndpointOptions.Section);
        if (services.Any(d => d.ServiceType == typeof(FlightEndpointHost))) return services;
        services.AddSingleton<FlightBearerTokens>(); // one per silo: the OTLP door accepts the tokens Handshake issues
        services.AddSingleton<FlightEndpointHost>();
        services.AddHostedService(sp => sp.GetRequiredService<FlightEndpointHost>());
        return services;
    }
}
