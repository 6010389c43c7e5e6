using Apache.Arrow;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// PostgreSQL 15: binary COPY statements (as many rows as TimeFusion's COPY statements) into a fresh table with an
/// index on (project_id, timestamp), fsync on, several connections; acknowledged = committed.
/// </summary>
public static class PostgresIngest
{
    public const int Writers = 4;

    public static async Task<IngestRun> RunAsync(PostgresPeer pg, IReadOnlyList<RecordBatch> batches, long arrowBytes, string table, string project)
    {
        await pg.ExecuteAsync($"DROP TABLE IF EXISTS {table}; {ArrowCopyWriter.PostgresTable(table)}; CREATE INDEX ON {table} (project_id, timestamp)");
        var writer = new ArrowCopyWriter(batches[0].Schema, new HashSet<string>(), jsonb: true, project: project);
        var sql = writer.CopyStatement(table);
        var per = TimeFusionCopyIngest.StatementBatches;
        var statements = (batches.Count + per - 1) / per;
        var (elapsed, latencies) = await ConcurrentWriters.RunAsync(statements, Writers, s => Task.Run(() =>
        {
            using var conn = pg.Connect();
            conn.Open();
            using var copy = conn.BeginBinaryImport(sql);
            for (var i = s * per; i < Math.Min(batches.Count, (s + 1) * per); i++)
                writer.Write(copy, batches[i]);
            copy.Complete();
        }));
        return new IngestRun(batches.Sum(b => (long)b.Length), arrowBytes, elapsed, latencies, 0);
    }

    /// <summary>Loads a whole data set (for the queries), then ANALYZE.</summary>
    public static async Task<TimeSpan> LoadAsync(PostgresPeer pg, IAsyncEnumerable<RecordBatch> batches, string table, Func<int, string> projectOfBatch)
    {
        await pg.ExecuteAsync($"DROP TABLE IF EXISTS {table}; {ArrowCopyWriter.PostgresTable(table)}; CREATE INDEX ON {table} (project_id, timestamp)");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pending = new List<Task>();
        var index = 0;
        var group = new List<RecordBatch>();
        async Task Send(List<RecordBatch> g, string project)
        {
            while (pending.Count >= Writers)
            {
                var done = await Task.WhenAny(pending);
                pending.Remove(done);
                await done;
            }
            pending.Add(Task.Run(() =>
            {
                var writer = new ArrowCopyWriter(g[0].Schema, new HashSet<string>(), jsonb: true, project: project);
                using var conn = pg.Connect();
                conn.Open();
                using var copy = conn.BeginBinaryImport(writer.CopyStatement(table));
                foreach (var b in g) writer.Write(copy, b);
                copy.Complete();
            }));
        }
        var groupProject = "";
        await foreach (var batch in batches)
        {
            var project = projectOfBatch(index++);
            if (group.Count > 0 && (group.Count == TimeFusionCopyIngest.StatementBatches || project != groupProject))
            {
                await Send(group, groupProject);
                group = [];
            }
            groupProject = project;
            group.Add(batch);
        }
        if (group.Count > 0) await Send(group, groupProject);
        await Task.WhenAll(pending);
        await pg.ExecuteAsync($"ANALYZE {table}");
        return clock.Elapsed;
    }
}
