using System.Text;
using System.Text.RegularExpressions;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Sql.Differential;

/// <summary>
/// The statements of <c>corpus.sql</c> (one a line; <c>--</c> lines are comments) and, for each, the reason it is an
/// expected difference (<c>-- differs: reason</c> on the line before), or null.
/// </summary>
internal sealed partial class DifferentialCorpus
{
    public static string PathOf => System.IO.Path.Combine(RepoPaths.Root, "tests", "TimeFusion.Tests", "Sql", "Differential", "corpus.sql");

    public required IReadOnlyList<(string Sql, string? Differs)> Statements { get; init; }

    public static DifferentialCorpus Load()
    {
        var statements = new List<(string, string?)>();
        string? differs = null;
        foreach (var raw in File.ReadLines(PathOf))
        {
            var line = raw.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith("-- differs:", StringComparison.Ordinal))
            {
                differs = line["-- differs:".Length..].Trim();
                continue;
            }
            if (line.StartsWith("--", StringComparison.Ordinal)) continue;
            statements.Add((line, differs));
            differs = null;
        }
        return new DifferentialCorpus { Statements = statements };
    }

    /// <summary>The psql script: errors as bare SQLSTATEs, UTC, and a marker line before each statement's output.</summary>
    public string Script()
    {
        var script = new StringBuilder("\\set VERBOSITY sqlstate\nSET TimeZone = 'UTC';\n");
        for (var i = 0; i < Statements.Count; i++)
            script.Append("\\echo '#[").Append(i).Append("]'\n").Append(Statements[i].Sql).Append('\n');
        return script.ToString();
    }

    /// <summary>psql's output (stdout and stderr interleaved) cut at the markers: statement index → its output.</summary>
    public static Dictionary<int, string> Split(string output)
    {
        var parts = Marker().Split(output);
        var blocks = new Dictionary<int, string>();
        for (var i = 1; i + 1 < parts.Length; i += 2)
            blocks[int.Parse(parts[i], System.Globalization.CultureInfo.InvariantCulture)] = parts[i + 1];
        return blocks;
    }

    [GeneratedRegex(@"^#\[(\d+)\]\r?$", RegexOptions.Multiline)]
    private static partial Regex Marker();
}
