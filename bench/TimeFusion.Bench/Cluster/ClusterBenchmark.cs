using System.Diagnostics;
using System.Globalization;
using Npgsql;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Cluster;

/// <summary>
/// <c>cluster [--seconds 20] [--writers 6] [--projects 24] [--batch 200] [--runs 2]</c>: the same ingest and dashboard
/// queries over psql's protocol (Npgsql) against one silo and against three silos in cluster mode on one Azurite, on
/// this machine's cores, so the ratio shows what the cluster costs (target ≤ 1.2×). Writers spread their connections
/// over the silos and their rows over the projects (one table grain each, placed by Orleans); the queries fan out
/// over every project. Each run starts fresh silos under a cluster id of its own; the runs alternate 1 and 3 silos so
/// that load from elsewhere on a shared machine falls on both.
/// </summary>
public static class ClusterBenchmark
{
    private static readonly string[] Queries =
    [
        "SELECT count(*) FROM otel_logs_and_spans WHERE {0}",
        "SELECT epoch_us(timestamp) // 1000000 AS second, level, count(*) AS n, quantile_cont(duration, 0.95) AS p95 FROM otel_logs_and_spans WHERE {0} GROUP BY 1, 2",
        "SELECT timestamp, id, project_id FROM otel_logs_and_spans WHERE {0} AND level = 'ERROR' ORDER BY timestamp DESC LIMIT 100",
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 20);
        var writers = Option(args, "--writers", 6);
        var projects = Option(args, "--projects", 24);
        var batch = Option(args, "--batch", 200);
        var runs = Option(args, "--runs", 2);
        Console.WriteLine($"cluster bench: {seconds} s of ingest, {writers} writers, {projects} projects, {batch} rows per INSERT, {runs} runs; " +
                          $"{Environment.ProcessorCount} cores, load average {LoadAverage()}");
        await using var azurite = await AzuriteProcess.StartAsync();
        var results = new List<(int Silos, double RowsPerSecond, double[] QueryMs)>();
        for (var run = 0; run < runs; run++)
        {
            foreach (var silos in new[] { 1, 3 })
            {
                var r = await RunOnceAsync(azurite, silos, seconds, writers, projects, batch);
                results.Add(r);
                Console.WriteLine($"run {run + 1}, {silos} silo(s): {r.RowsPerSecond:N0} rows/s; queries (median ms) {string.Join(" / ", r.QueryMs.Select(m => m.ToString("N0", CultureInfo.InvariantCulture)))}; load average {LoadAverage()}");
            }
        }
        Console.WriteLine();
        Console.WriteLine("| run | 1 silo rows/s | 3 silos rows/s | ingest 1 ÷ 3 | " + string.Join(" | ", Queries.Select((_, i) => $"query {i + 1} ms 1 / 3 (3 ÷ 1)")) + " |");
        Console.WriteLine("|---|---|---|---|" + string.Concat(Queries.Select(_ => "---|")));
        for (var run = 0; run < runs; run++)
        {
            var (one, three) = (results[run * 2], results[run * 2 + 1]);
            Console.WriteLine($"| {run + 1} | {one.RowsPerSecond:N0} | {three.RowsPerSecond:N0} | {one.RowsPerSecond / three.RowsPerSecond:F2}× | " +
                string.Join(" | ", one.QueryMs.Select((m, i) => $"{m:N0} / {three.QueryMs[i]:N0} ({three.QueryMs[i] / m:F2}×)")) + " |");
        }
        return 0;
    }

    private static async Task<(int Silos, double RowsPerSecond, double[] QueryMs)> RunOnceAsync(AzuriteProcess azurite, int count, int seconds, int writers,
        int projects, int batch)
    {
        var clusterId = "b" + Guid.NewGuid().ToString("N")[..12];
        var root = Path.Combine(Path.GetTempPath(), "tf-cluster-bench-" + clusterId);
        var settings = new Dictionary<string, string>
        {
            ["Cluster:ConnectionString"] = azurite.ConnectionString,
            ["Cluster:ClusterId"] = clusterId,
            // SDK session tokens must verify on every silo: one signing key for the cluster (a test key).
            ["Sdk:SessionSecret"] = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("timefusion-test-cluster"u8)),
            ["Execution:MaxConcurrentStatementsPerUser"] = "64",
        };
        var silos = Enumerable.Range(1, count).Select(i => SiloProcess.Start(Path.Combine(root, "silo" + i), settings)).ToList();
        try
        {
            foreach (var silo in silos) await WaitForSqlAsync(silo, TimeSpan.FromMinutes(3));
            var inAll = "project_id IN (" + string.Join(", ", Enumerable.Range(0, projects).Select(p => $"'c{p:D2}'")) + ")";
            // Warm-up: every project's table grain activated (Delta created, ownership committed, WAL leased) before timing.
            await using (var warm = await OpenAsync(silos[0]))
            {
                for (var p = 0; p < projects; p++) await InsertAsync(warm, $"c{p:D2}", "warm", p, 1);
            }

            long rows = 0;
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                await using var connection = await OpenAsync(silos[w % silos.Count]);
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    await InsertAsync(connection, $"c{(w + n * writers) % projects:D2}", $"w{w}", n, batch);
                    Interlocked.Add(ref rows, batch);
                }
            })));
            var rate = rows / clock.Elapsed.TotalSeconds;

            var medians = new double[Queries.Length];
            for (var q = 0; q < Queries.Length; q++)
            {
                var sql = string.Format(CultureInfo.InvariantCulture, Queries[q], inAll);
                var times = new List<double>();
                for (var i = 0; i < 7; i++)
                {
                    // Round robin over the silos: every one is a front door.
                    await using var connection = await OpenAsync(silos[i % silos.Count]);
                    var t = Stopwatch.StartNew();
                    await using var command = new NpgsqlCommand(sql, connection);
                    await using var reader = await command.ExecuteReaderAsync();
                    while (await reader.ReadAsync()) { }
                    if (i > 0) times.Add(t.Elapsed.TotalMilliseconds); // the first one warms caches
                }
                times.Sort();
                medians[q] = times[times.Count / 2];
            }
            return (count, rate, medians);
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }

    private static async Task InsertAsync(NpgsqlConnection connection, string project, string writer, int n, int rows)
    {
        var values = string.Join(", ", Enumerable.Range(0, rows).Select(k =>
            $"('{project}', '{writer}-{n}-{k}', now(), '{(k % 50 == 0 ? "ERROR" : "INFO")}', {k * 1000})"));
        await using var command = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level, duration) VALUES {values}", connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<NpgsqlConnection> OpenAsync(SiloProcess silo)
    {
        var connection = new NpgsqlConnection(ConnectionString(silo));
        await connection.OpenAsync();
        return connection;
    }

    private static string ConnectionString(SiloProcess silo) =>
        $"Host=127.0.0.1;Port={silo.PostgresPort};Username=timefusion;Password=timefusion;Database=timefusion;Pooling=false;Timeout=30;Command Timeout=300";

    internal static async Task WaitForSqlAsync(SiloProcess silo, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var connection = await OpenAsync(silo);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when ((e is NpgsqlException or IOException or TimeoutException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250); // polling readiness
            }
        }
    }

    internal static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
