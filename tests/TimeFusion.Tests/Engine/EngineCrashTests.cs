using System.Globalization;
using TimeFusion.CrashChild;
using TimeFusion.Engine;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Engine;

public sealed class EngineCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Every_acknowledged_row_survives_kills_during_ingest_and_flush_exactly_once()
    {
        const string project = "crash/project ü";
        var acked = new Dictionary<string, int>(StringComparer.Ordinal); // batch key -> rows
        for (var round = 0; round < 3; round++)
        {
            IReadOnlyList<string> lines;
            await using (var child = CrashChildProcess.Start("engine-ingest", "--root", _dir.Path, "--project", project, "--writers", "4", "--rows", "200"))
            {
                // Kill once flushes have happened while inserts continue.
                await child.WaitForLinesAsync(l => l.StartsWith("FLUSHED ", StringComparison.Ordinal), 3 + round, TimeSpan.FromSeconds(120));
                lines = await child.KillAsync();
            }
            foreach (var line in lines.Where(l => l.StartsWith("ACK ", StringComparison.Ordinal)))
            {
                var p = line.Split(' ');
                Assert.True(acked.TryAdd(p[2], int.Parse(p[3], CultureInfo.InvariantCulture)), $"batch {p[2]} acknowledged twice");
            }
            output.WriteLine($"round {round}: {lines.Count(l => l.StartsWith("ACK ", StringComparison.Ordinal))} acks, {lines.Count(l => l.StartsWith("FLUSHED ", StringComparison.Ordinal))} flushes");

            // Reopen in this process and count every batch across buffer and Delta.
            await using var buffer = EngineCrashTable.OpenBuffer();
            var services = EngineCrashTable.Services(_dir.Path, buffer);
            await using var engine = await TableEngine.OpenAsync(new TableId(project, EngineCrashTable.Schema.Name), EngineCrashTable.Schema, services);
            using var snapshot = engine.OpenSnapshot();
            var found = await CountPerBatchAsync(snapshot, services.Objects);
            foreach (var (key, rows) in acked)
            {
                Assert.True(found.TryGetValue(key, out var got), $"acknowledged batch {key} lost");
                Assert.Equal((rows, rows), got); // every row once: count equals distinct ids equals batch size
            }
            // Batches that were logged but not yet acknowledged when the kill came may survive; they must be whole.
            Assert.All(found.Values, v => Assert.Equal(v.Rows, v.Distinct));
        }
    }

    private static async Task<Dictionary<string, (long Rows, long Distinct)>> CountPerBatchAsync(TableSnapshot snapshot, TimeFusion.Storage.IObjectStore store)
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
