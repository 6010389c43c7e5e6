using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Dashboard;

/// <summary>Checks <c>TimeFusion:Dashboard</c> at start.</summary>
internal sealed class TimeFusionDashboardOptionsValidator : IValidateOptions<TimeFusionDashboardOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TimeFusionDashboardOptions o)
    {
        var problems = new OptionsProblems(TimeFusionDashboardOptions.Section);
        problems.RequireIpAddress(nameof(o.Host), o.Host);
        problems.RequirePort(nameof(o.Port), o.Port);
        problems.Require(o.CounterUpdateInterval >= TimeSpan.FromMilliseconds(100), nameof(o.CounterUpdateInterval), o.CounterUpdateInterval, "must be at least 100 ms");
        return problems.Result;
    }
}
