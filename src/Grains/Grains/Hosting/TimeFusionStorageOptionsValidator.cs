using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace TimeFusion.Hosting;

/// <summary>Checks <c>TimeFusion:Storage</c> at start: a known kind, and for Azure a connection string and valid container names.</summary>
internal sealed partial class TimeFusionStorageOptionsValidator : IValidateOptions<TimeFusionStorageOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TimeFusionStorageOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Storage);
        // The binder accepts any integer for an enum, so an unknown number would otherwise pass.
        problems.Require(Enum.IsDefined(options.Kind), nameof(options.Kind), options.Kind, $"must be one of {string.Join(", ", Enum.GetNames<StorageKind>())}");
        if (options.Kind == StorageKind.AzureBlob)
        {
            problems.Require(!string.IsNullOrWhiteSpace(options.ConnectionString), nameof(options.ConnectionString), "",
                "is required with Kind = AzureBlob");
            problems.Require(ContainerName().IsMatch(options.TablesContainer), nameof(options.TablesContainer), options.TablesContainer, ContainerRule);
            problems.Require(ContainerName().IsMatch(options.WalContainer), nameof(options.WalContainer), options.WalContainer, ContainerRule);
        }
        problems.Require(!options.Prefix.StartsWith('/') && !options.Prefix.Contains('\\') && !options.Prefix.Split('/').Any(p => p is "." or ".."),
            nameof(options.Prefix), options.Prefix, "must be a relative folder such as 'prod' or 'prod/eu'");
        return problems.Result;
    }

    private const string ContainerRule = "must be a valid container name: 3-63 lowercase letters, digits and single hyphens, starting with a letter or digit";

    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")]
    private static partial Regex ContainerName();
}
