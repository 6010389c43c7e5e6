using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo;

/// <summary>Checks <c>TimeFusion:SiloPort</c> and <c>TimeFusion:GatewayPort</c>.</summary>
internal sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        var problems = new OptionsProblems(ServerOptions.Section);
        problems.Require(options.SiloPort is > 0 and <= 65535, nameof(options.SiloPort), options.SiloPort, "must be a TCP port (1-65535)");
        problems.Require(options.GatewayPort is > 0 and <= 65535, nameof(options.GatewayPort), options.GatewayPort, "must be a TCP port (1-65535)");
        problems.Require(options.SiloPort != options.GatewayPort, nameof(options.GatewayPort), options.GatewayPort,
            $"must differ from {problems.Key(nameof(options.SiloPort))}");
        return problems.Result;
    }
}
