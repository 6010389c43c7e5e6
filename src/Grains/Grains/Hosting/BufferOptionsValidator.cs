using Microsoft.Extensions.Options;
using TimeFusion.Buffer;

namespace TimeFusion.Hosting;

/// <summary>Checks <c>TimeFusion:Buffer</c> at start: the buffer's own rules, and a soft limit below the hard one.</summary>
internal sealed class BufferOptionsValidator : IValidateOptions<BufferOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, BufferOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Buffer);
        problems.From(options.Validate);
        // Stricter than BufferOptions.Validate: at equal limits writers would block before any early flush started.
        problems.Require(options.SoftLimitBytes < options.HardLimitBytes, nameof(options.SoftLimitBytes), options.SoftLimitBytes,
            $"must be less than {problems.Key(nameof(options.HardLimitBytes))} ({options.HardLimitBytes})");
        return problems.Result;
    }
}
