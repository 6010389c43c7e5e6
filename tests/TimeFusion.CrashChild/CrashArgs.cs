using System.Globalization;

namespace TimeFusion.CrashChild;

/// <summary>Named arguments: <c>--name value</c> pairs.</summary>
public sealed class CrashArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static CrashArgs Parse(ReadOnlySpan<string> args)
    {
        var result = new CrashArgs();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected '--name value' at '{args[i]}'");
            result._values[args[i][2..]] = args[i + 1];
        }
        return result;
    }

    public string Get(string name) => _values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"missing --{name}");

    public string Get(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public long GetLong(string name, long fallback) =>
        _values.TryGetValue(name, out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
