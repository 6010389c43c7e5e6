using System.Globalization;
using System.Text;
using TimeFusion.Delta;
using TimeFusion.Engine;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Query.Execution;

namespace TimeFusion.Tests.Maintenance;

/// <summary>Helpers of the maintenance tests: queries over an engine's snapshot as comparable text, Delta history, files on storage.</summary>
internal static class MaintenanceKit
{
    /// <summary>The dashboard-like queries whose answers OPTIMIZE must not change.</summary>
    public static readonly string[] Queries =
    [
        "SELECT count(*), sum(duration), sum(status), count(DISTINCT trace_id) FROM events",
        "SELECT service, level, count(*), sum(duration), min(timestamp), max(timestamp) FROM events GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT timestamp, service, duration FROM events ORDER BY timestamp DESC, service, duration LIMIT 25",
        "SELECT date, count(*) FROM events GROUP BY 1 ORDER BY 1",
        "SELECT trace_id, duration FROM events WHERE status = 500 ORDER BY duration DESC, trace_id LIMIT 10",
    ];

    public static async Task<string> RunAsync(ExecutionTestKit kit, TableEngine engine, string sql, TableSnapshot? held = null)
    {
        var snapshot = held ?? engine.OpenSnapshot();
        try
        {
            var (batches, _) = await kit.Snapshots.ExecuteDetailedAsync(snapshot, engine.Schema, kit.Objects, "events", sql, TimeRange.All, null, CancellationToken.None);
            using (batches) return Render(ArrowRows.ToRows(batches));
        }
        finally
        {
            if (held is null) snapshot.Dispose();
        }
    }

    public static async Task<List<string>> RunAllAsync(ExecutionTestKit kit, TableEngine engine, TableSnapshot? held = null)
    {
        var answers = new List<string>();
        foreach (var q in Queries) answers.Add(await RunAsync(kit, engine, q, held));
        return answers;
    }

    public static string Render(List<object?[]> rows)
    {
        var sb = new StringBuilder();
        foreach (var row in rows)
            sb.AppendLine(string.Join(" | ", row.Select(v => v switch
            {
                null => "NULL",
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => v.ToString(),
            })));
        return sb.ToString();
    }

    public static long Count(string answer) => long.Parse(answer.Split(" | ")[0], CultureInfo.InvariantCulture);

    /// <summary>The text of the Delta commit of <paramref name="version"/>.</summary>
    public static async Task<string> CommitTextAsync(IObjectStore store, TableId id, long version) =>
        Encoding.UTF8.GetString(await store.ReadAllAsync(DeltaLogPaths.CommitPath(StoragePathNames.DeltaTableRoot(id), version)));

    /// <summary>Data files on storage (relative to the table root), the log excluded.</summary>
    public static async Task<HashSet<string>> DataFilesAsync(IObjectStore store, TableId id)
    {
        var prefix = StoragePathNames.DeltaTableRoot(id) + "/";
        return (await store.ListAsync(prefix)).Select(o => o.Path[prefix.Length..]).Where(p => !p.StartsWith("_delta_log/", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
    }

    public static Dictionary<string, int> FilesPerPartition(DeltaSnapshot snapshot) =>
        snapshot.Files.GroupBy(f => f.PartitionValues["date"] ?? "").ToDictionary(g => g.Key, g => g.Count());
}
