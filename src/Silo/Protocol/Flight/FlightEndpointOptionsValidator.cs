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
        problems.RequireIpAddress(nameof(o.Host), o.Host);
        problems.RequirePort(nameof(o.Port), o.Port);
        problems.Require(o.MaxReceiveMessageBytes >= 1024, nameof(o.MaxReceiveMessageBytes), o.MaxReceiveMessageBytes, "must be at least 1024");
        problems.Require(o.TargetResponseMessageBytes >= 1024, nameof(o.TargetResponseMessageBytes), o.TargetResponseMessageBytes, "must be at least 1024");
        problems.Require(o.Http2StreamWindowBytes >= 65_535, nameof(o.Http2StreamWindowBytes), o.Http2StreamWindowBytes, "must be at least 65535");
        problems.Require(o.Http2ConnectionWindowBytes >= 65_535, nameof(o.Http2ConnectionWindowBytes), o.Http2ConnectionWindowBytes, "must be at least 65535");
        problems.Require(o.TokenLifetime > TimeSpan.Zero, nameof(o.TokenLifetime), o.TokenLifetime, "must be positive");
        if (o.Tls.Enabled)
        {
            try
            {
                TimeFusion.Silo.Security.ServerCertificates.Load(o.Tls, FlightEndpointOptions.Section + ":Tls")?.Dispose();
            }
            catch (InvalidOperationException e)
            {
                problems.Add("Tls:CertificatePath", o.Tls.CertificatePath, e.InnerException?.Message ?? e.Message);
            }
        }
        return problems.Result;
    }
}
