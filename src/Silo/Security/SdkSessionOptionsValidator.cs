using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Security;

/// <summary>Checks <c>TimeFusion:Sdk</c> at start.</summary>
internal sealed class SdkSessionOptionsValidator(IOptions<TimeFusionClusterOptions> cluster) : IValidateOptions<SdkSessionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SdkSessionOptions options)
    {
        var problems = new OptionsProblems(SdkSessionOptions.Section);
        if (!string.IsNullOrWhiteSpace(options.SessionSecret))
        {
            problems.Require(options.SecretBytes() is { Length: >= SdkSessionOptions.MinSecretBytes }, nameof(options.SessionSecret), "(hidden)",
                $"must be base64 of at least {SdkSessionOptions.MinSecretBytes} random bytes (e.g. openssl rand -base64 32)");
        }
        else
        {
            // Each silo would sign with a key of its own, and a client's token would fail on the next gateway it uses.
            problems.Require(!cluster.Value.Enabled, nameof(options.SessionSecret), "(unset)",
                "is required in cluster mode (the same key on every silo; e.g. openssl rand -base64 32)");
        }
        problems.Require(options.SessionLifetime >= TimeSpan.FromMinutes(1) && options.SessionLifetime <= TimeSpan.FromDays(7),
            nameof(options.SessionLifetime), options.SessionLifetime, "must be between 00:01:00 and 7.00:00:00");
        return problems.Result;
    }
}
