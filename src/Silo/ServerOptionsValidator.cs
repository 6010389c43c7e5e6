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
        problems.RequirePort(nameof(options.SiloPort), options.SiloPort, allowZero: false);
        problems.RequirePort(nameof(options.GatewayPort), options.GatewayPort, allowZero: false);
        problems.Require(options.SiloPort != options.GatewayPort, nameof(options.GatewayPort), options.GatewayPort,
            $"must differ from {problems.Key(nameof(options.SiloPort))}");
        return problems.Result;
    }
}
