using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using TimeFusion.Silo.Security;

namespace TimeFusion.Silo.Dashboard;

/// <summary>
/// HTTP Basic authentication for the dashboard against <c>TimeFusion:Users</c>: only admins get in (the dashboard
/// shows the whole cluster). Failures count in the shared <see cref="LoginThrottle"/> like any other door's.
/// </summary>
/// <remarks>ASP.NET Core ships no Basic handler; this is the few lines of one, with the server's own user check.</remarks>
internal sealed class DashboardBasicAuthentication(UserDirectory users, LoginThrottle throttle)
{
    private const string Challenge = "Basic realm=\"TimeFusion dashboard\", charset=\"UTF-8\"";

    /// <summary>Lets the request through when it carries an admin's credentials; answers 401 (or 403 for a non-admin) otherwise.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var user = await AuthenticateAsync(context);
        if (user is null)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = Challenge;
            return;
        }
        if (!user.IsAdmin)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        await next(context);
    }

    private async Task<TimeFusionUser?> AuthenticateAsync(HttpContext context)
    {
        if (!AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization, out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
            return null;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':');
        if (colon <= 0) return null;
        var name = decoded[..colon];
        var address = context.Connection.RemoteIpAddress;
        await throttle.WaitTurnAsync(name, address, context.RequestAborted);
        var user = users.Verify(name, decoded[(colon + 1)..]);
        if (user is null) throttle.Failed("Dashboard", name, address);
        else throttle.Succeeded(name, address);
        return user;
    }
}
