using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Security;

/// <summary>Checks <c>TimeFusion:Login</c> at start.</summary>
internal sealed class LoginThrottleOptionsValidator : IValidateOptions<LoginThrottleOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, LoginThrottleOptions options)
    {
        var problems = new OptionsProblems(LoginThrottleOptions.Section);
        problems.Require(options.FreeFailures >= 0, nameof(options.FreeFailures), options.FreeFailures, "must be 0 or more");
        problems.Require(options.BaseDelay >= TimeSpan.Zero, nameof(options.BaseDelay), options.BaseDelay, "must not be negative");
        problems.Require(options.MaxDelay >= options.BaseDelay, nameof(options.MaxDelay), options.MaxDelay, "must be at least BaseDelay");
        problems.Require(options.ForgetAfter > TimeSpan.Zero, nameof(options.ForgetAfter), options.ForgetAfter, "must be positive");
        return problems.Result;
    }
}
