using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>Registers the Arrow Flight endpoint in a host.</summary>
public static class FlightServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="FlightEndpointHost"/> as a hosted service with options bound from <paramref name="section"/>
    /// (e.g. <c>TimeFusion:Flight</c>). It needs an <see cref="IGrainFactory"/> (the silo's) and
    /// <c>PostgresUsersOptions</c> (the users it authenticates).
    /// </summary>
    public static IServiceCollection AddFlightEndpoint(this IServiceCollection services, IConfiguration? section = null)
    {
        var options = services.AddOptions<FlightEndpointOptions>();
        if (section is not null) options.Bind(section);
        services.AddSingleton<FlightEndpointHost>();
        services.AddHostedService(sp => sp.GetRequiredService<FlightEndpointHost>());
        return services;
    }
}
