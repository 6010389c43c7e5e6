using Apache.Arrow;
using Npgsql;
using TimeFusion.Bench.Peers;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// TimeFusion through its PostgreSQL endpoint: binary <c>COPY … FROM STDIN</c> statements of
/// <see cref="StatementBatches"/> batches each (a COPY is all-or-nothing and bounded by the batch limit), one
/// user per pair bound to its project, several connections at once.
/// </summary>
public static class TimeFusionCopyIngest
{
    public const int StatementBatches = 8;

    public static int Writers(int pairs) => pairs == 1 ? 4 : Math.Min(pairs, 16);

    public static async Task<IngestRun> RunAsync(IReadOnlyList<RecordBatch> batches, long arrowBytes, int pairs, string root)
    {
        var settings = SiloSettings.Ingest();
        for (var p = 0; p < pairs; p++)
        {
            settings[$"Users:{p}:Name"] = $"u{p}";
            settings[$"Users:{p}:PasswordOrScramSecret"] = "bench";
            settings[$"Users:{p}:Projects:0"] = $"c{p}";
        }
        await using var silo = SiloProcess.Start(Path.Combine(root, $"silo-copy-{pairs}-{Guid.NewGuid():N}"), settings);
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        await FreePorts.WaitUntilListeningAsync(silo.PostgresPort, TimeSpan.FromSeconds(30), silo.LogTail);
        var sources = Enumerable.Range(0, pairs).Select(p =>
        {
            var b = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={silo.PostgresPort};Username=u{p};Password=bench;Database=timefusion;Command Timeout=0;Maximum Pool Size=32");
            b.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
            return b.Build();
        }).ToArray();
        try
        {
            var writer = new ArrowCopyWriter(batches[0].Schema, new HashSet<string> { TableSchema.DateColumn }, jsonb: false, project: null);
            var sql = writer.CopyStatement(OtelLogsAndSpans.TableName);
            var perStatement = pairs == 1 ? StatementBatches : (int)Math.Clamp(batches.Count / pairs, 1, StatementBatches);
            var statements = (batches.Count + perStatement - 1) / perStatement;
            var (elapsed, latencies) = await ConcurrentWriters.RunAsync(statements, Writers(pairs), s => Task.Run(() =>
            {
                using var conn = sources[s % pairs].OpenConnection();
                using var copy = conn.BeginBinaryImport(sql);
                for (var i = s * perStatement; i < Math.Min(batches.Count, (s + 1) * perStatement); i++)
                    writer.Write(copy, batches[i]);
                copy.Complete();
            }));
            var peak = silo.PeakRssBytes;
            return new IngestRun(batches.Sum(b => (long)b.Length), arrowBytes, elapsed, latencies, peak);
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new InvalidOperationException($"{e.Message.Split('\n')[0]}; silo log: {silo.LogTail()}", e);
        }
        finally
        {
            foreach (var s in sources) await s.DisposeAsync();
            await silo.StopAsync();
        }
    }
}
