using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Protocol.Otlp;

/// <summary>Checks <c>TimeFusion:Otlp</c> at start.</summary>
internal sealed class OtlpOptionsValidator : IValidateOptions<OtlpOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OtlpOptions o)
    {
        var problems = new OptionsProblems(OtlpOptions.Section);
        problems.RequireIpAddress(nameof(o.Host), o.Host);
        problems.RequirePort(nameof(o.HttpPort), o.HttpPort);
        problems.RequirePort(nameof(o.GrpcPort), o.GrpcPort);
        problems.Require(o.HttpPort == 0 || o.HttpPort != o.GrpcPort, nameof(o.GrpcPort), o.GrpcPort, "must differ from HttpPort");
        problems.Require(o.MaxRequestBytes >= 1024, nameof(o.MaxRequestBytes), o.MaxRequestBytes, "must be at least 1024");
        problems.Require(o.RetryAfter >= TimeSpan.FromSeconds(1) && o.RetryAfter <= TimeSpan.FromHours(1), nameof(o.RetryAfter), o.RetryAfter,
            "must be between 1 second and 1 hour (Retry-After counts whole seconds)");
        return problems.Result;
    }
}
