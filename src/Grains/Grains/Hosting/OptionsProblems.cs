using Microsoft.Extensions.Options;

namespace TimeFusion.Hosting;

/// <summary>
/// Collects what is wrong with one options object, each problem naming its full configuration key
/// (<c>TimeFusion:Buffer:SoftLimitBytes = '…': …</c>), so a failed start tells the operator what to change.
/// </summary>
public sealed class OptionsProblems(string section)
{
    private readonly List<string> _failures = [];

    /// <summary>The full key of a setting in this section.</summary>
    public string Key(string setting) => section + ":" + setting;

    /// <summary>Records that <paramref name="setting"/> (holding <paramref name="value"/>) is wrong.</summary>
    public void Add(string setting, object? value, string problem) => _failures.Add($"{Key(setting)} = '{value}': {problem}");

    /// <summary>Requires an IP address literal (a listen address such as 127.0.0.1 or 0.0.0.0).</summary>
    public void RequireIpAddress(string setting, string? value) =>
        Require(System.Net.IPAddress.TryParse(value, out _), setting, value, "must be an IP address such as 127.0.0.1 or 0.0.0.0");

    /// <summary>Requires a TCP port; 0 (pick a free one) only when <paramref name="allowZero"/>.</summary>
    public void RequirePort(string setting, int value, bool allowZero = true) =>
        Require(value is >= 0 and <= 65535 && (allowZero || value > 0), setting, value,
            allowZero ? "must be a TCP port (0-65535; 0 picks a free one)" : "must be a TCP port (1-65535)");

    /// <summary>Records a problem when <paramref name="ok"/> is false.</summary>
    public void Require(bool ok, string setting, object? value, string problem)
    {
        if (!ok) Add(setting, value, problem);
    }

    /// <summary>
    /// Runs an options class's own <c>Validate()</c> (which throws <see cref="ArgumentException"/> naming the property)
    /// and records its complaint under the property's key.
    /// </summary>
    public void From(Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            var message = e.Message;
            var cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            if (cut >= 0) message = message[..cut];
            Add(e.ParamName ?? "?", (e as ArgumentOutOfRangeException)?.ActualValue, message);
        }
    }

    /// <summary>Success, or a failure listing every problem.</summary>
    public ValidateOptionsResult Result => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}
