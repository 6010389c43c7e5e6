using System.Diagnostics;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Queries;

/// <summary>A catalog of one table owned by one project, for planning queries in process (no silo).</summary>
internal sealed class OneTableCatalog(TableSchema schema, string project) : ICatalogView
{
    public TableSchema? Find(string name) => string.Equals(name, schema.Name, StringComparison.OrdinalIgnoreCase) ? schema : null;

    public IReadOnlyList<string> ProjectsOf(string table) => [project];
}

/// <summary>Timing actions in turn, so that a noisy machine's drift falls on each alike.</summary>
internal static class InTurn
{
    /// <summary>The median milliseconds of each action over <paramref name="runs"/> rounds, the actions taking turns in every round (one warm-up each first).</summary>
    public static async Task<double[]> MediansAsync(int runs, params Func<Task>[] actions)
    {
        foreach (var a in actions) await a();
        var times = actions.Select(_ => new List<double>()).ToArray();
        for (var i = 0; i < runs; i++)
        {
            for (var k = 0; k < actions.Length; k++)
            {
                var sw = Stopwatch.StartNew();
                await actions[k]();
                times[k].Add(sw.Elapsed.TotalMilliseconds);
            }
        }
        return times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
    }
}
