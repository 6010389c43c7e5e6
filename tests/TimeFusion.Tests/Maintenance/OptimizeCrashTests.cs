using System.Globalization;
using TimeFusion.CrashChild;
using TimeFusion.Engine;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Maintenance;

/// <summary>SIGKILL of a real child process during OPTIMIZE: after restart the table is before or after it, never half; VACUUM removes the orphans.</summary>
public sealed class OptimizeCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_kill_during_OPTIMIZE_leaves_every_row_exactly_once_and_VACUUM_removes_what_it_left()
    {
        const string project = "crash-optimize";
        var id = new TableId(project, EngineCrashTable.Schema.Name);
        var flushed = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var round = 0; round < 3; round++)
        {
            IReadOnlyList<string> lines;
            await using (var child = CrashChildProcess.Start("engine-optimize", "--root", _dir.Path, "--project", project, "--flushes", "12", "--rows", "50"))
            {
                // Kill as the (round + 1)-th OPTIMIZE of this run starts: it is then planning, rewriting, uploading or committing.
                await child.WaitForLinesAsync(l => l == "OPTIMIZING", round + 1, TimeSpan.FromSeconds(120));
                lines = await child.KillAsync();
            }
            foreach (var line in lines.Where(l => l.StartsWith("FLUSHED ", StringComparison.Ordinal)))
            {
                var p = line.Split(' ');
                flushed[p[1]] = int.Parse(p[2], CultureInfo.InvariantCulture);
            }
            output.WriteLine($"round {round}: {lines.Count(l => l.StartsWith("OPTIMIZED", StringComparison.Ordinal))} optimizations finished");

            await using var buffer = EngineCrashTable.OpenBuffer();
            var services = EngineCrashTable.Services(_dir.Path, buffer);
            await using var engine = await TableEngine.OpenAsync(id, EngineCrashTable.Schema, services);
            using (var snapshot = engine.OpenSnapshot())
            {
                var found = await CountPerBatchAsync(snapshot, services.Objects);
                foreach (var (key, rows) in flushed)
                {
                    Assert.True(found.TryGetValue(key, out var got), $"flushed batch {key} lost");
                    Assert.Equal((rows, rows), got);
                }
                Assert.All(found.Values, v => Assert.Equal(v.Rows, v.Distinct));
            }
            // Whatever the kill left on storage that no version references goes with the next VACUUM.
            await engine.VacuumAsync(TimeSpan.Zero);
            var prefix = StoragePathNames.DeltaTableRoot(id) + "/";
            var onDisk = (await services.Objects.ListAsync(prefix)).Select(o => o.Path[prefix.Length..])
                .Where(p => !p.StartsWith("_delta_log/", StringComparison.Ordinal)).ToHashSet();
            Assert.Equal(engine.DeltaSnapshot.Files.Select(f => f.DataPath).ToHashSet(), onDisk);
        }
    }

    private static async Task<Dictionary<string, (long Rows, long Distinct)>> CountPerBatchAsync(TableSnapshot snapshot, IObjectStore store)
    {
        var relation = $"SELECT batch, id FROM {snapshot.Buffer.Relation}";
        if (snapshot.Delta.Files.Count > 0)
        {
            var files = new List<string>();
            foreach (var add in snapshot.Delta.Files) files.Add(await store.GetLocalPathAsync(snapshot.Delta.ObjectPath(add)));
            relation += $" UNION ALL SELECT batch, id FROM read_parquet([{string.Join(", ", files.Select(SqlNames.Literal))}])";
        }
        using var cmd = snapshot.Buffer.Connection.CreateCommand();
        cmd.CommandText = $"SELECT batch, count(*), count(DISTINCT id) FROM ({relation}) GROUP BY batch";
        using var reader = cmd.ExecuteReader();
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        while (reader.Read()) result[reader.GetString(0)] = (Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2)));
        return result;
    }
}
