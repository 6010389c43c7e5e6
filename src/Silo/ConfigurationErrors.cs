using Microsoft.Extensions.Options;

namespace TimeFusion.Silo;

/// <summary>The operator-facing lines of a failed configuration check (each names its key), or none for other failures.</summary>
internal static class ConfigurationErrors
{
    /// <summary>
    /// Every validation failure in <paramref name="e"/> (one, or several in an <see cref="AggregateException"/>), and
    /// binder failures (a value of the wrong type, e.g. an unknown storage kind: its message names the key).
    /// </summary>
    public static List<string> Of(Exception e)
    {
        var errors = new List<string>();
        var all = e is AggregateException aggregate ? aggregate.Flatten().InnerExceptions.ToList() : [e];
        foreach (var inner in all)
        {
            if (inner is OptionsValidationException validation) errors.AddRange(validation.Failures);
            else if (inner is InvalidOperationException binding && binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
                errors.Add(binding.Message);
            else return [];
        }
        return errors;
    }
}
