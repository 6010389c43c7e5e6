using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TimeFusion.Grains;

namespace TimeFusion.Silo.Security;

/// <summary>Registers the server's users, shared by every endpoint.</summary>
public static class SecurityServiceCollectionExtensions
{
    /// <summary>Adds <see cref="UserDirectory"/> over the users bound from <c>TimeFusion:Users</c> (validated at start) and the shared <see cref="LoginThrottle"/> (<c>TimeFusion:Login</c>).</summary>
    public static IServiceCollection AddTimeFusionUsers(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(UserDirectory))) return services;
        services.AddOptions<TimeFusionUsersOptions>()
            // The section is the list itself (TimeFusion:Users:0:Name), not an object holding one.
            .Configure<IConfiguration>((o, configuration) => configuration.GetSection(TimeFusionUsersOptions.Section).Bind(o.Users))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TimeFusionUsersOptions>, TimeFusionUsersOptionsValidator>();
        services.TryAddSingleton<UserDirectory>();
        services.AddOptions<LoginThrottleOptions>().BindConfiguration(LoginThrottleOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LoginThrottleOptions>, LoginThrottleOptionsValidator>();
        services.TryAddSingleton<LoginThrottle>();
        return services;
    }

    /// <summary>
    /// Lets Orleans SDK clients log in (<see cref="IClientSessionGrain"/>) as the server's users: <see cref="SdkAuthenticator"/>
    /// with the session settings of <c>TimeFusion:Sdk</c> (validated at start). Without it the silo refuses every SDK call.
    /// </summary>
    public static IServiceCollection AddTimeFusionSdkSessions(this IServiceCollection services)
    {
        services.AddTimeFusionUsers();
        if (services.Any(d => d.ServiceType == typeof(IClientAuthenticator))) return services;
        services.AddOptions<SdkSessionOptions>().BindConfiguration(SdkSessionOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SdkSessionOptions>, SdkSessionOptionsValidator>();
        services.AddSingleton<IClientAuthenticator, SdkAuthenticator>();
        return services;
    }
}
