using System.Net;
using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>Checks <c>TimeFusion:Flight</c> at start.</summary>
internal sealed class FlightEndpointOptionsValidator : IValidateOptions<FlightEndpointOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, FlightEndpointOptions o)
    {
        var problems = new OptionsProblems(FlightEndpointOptions.Section);
        problems.Require(IPAddress.TryParse(o.Host, out _), nameof(o.Host), o.Host, "must be an IP address such as 127.0.0.1 or 0.0.0.0");
        problems.Require(o.Port is >= 0 and <= 65535, nameof(o.Port), o.Port, "must be a TCP port (0-65535; 0 picks a free one)");
        problems.Require(o.MaxReceiveMessageBytes >= 1024, nameof(o.MaxReceiveMessageBytes), o.MaxReceiveMessageBytes, "must be at least 1024");
        problems.Require(o.TargetResponseMessageBytes >= 1024, nameof(o.TargetResponseMessageBytes), o.TargetResponseMessageBytes, "must be at least 1024");
        problems.Require(o.TokenLifetime > TimeSpan.Zero, nameof(o.TokenLifetime), o.TokenLifetime, "must be positive");
        return problems.Result;
    }
}
