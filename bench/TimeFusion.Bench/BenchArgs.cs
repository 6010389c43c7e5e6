using System.Globalization;

namespace TimeFusion.Bench;

/// <summary>Tiny <c>--name value</c> option parser shared by benchmarks.</summary>
public sealed class BenchArgs(string[] args)
{
    public string? Get(string name)
    {
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (string.Equals(args[i], "--" + name, StringComparison.OrdinalIgnoreCase))
                return args[i + 1];
        }
        return null;
    }

    public bool Has(string name) => args.Any(a => string.Equals(a, "--" + name, StringComparison.OrdinalIgnoreCase));

    public int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public long Long(string name, long fallback) => Get(name) is { } v ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => Get(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
