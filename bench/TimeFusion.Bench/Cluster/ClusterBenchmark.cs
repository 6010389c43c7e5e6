using System.Diagnostics;
using System.Globalization;
using Npgsql;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Cluster;

/// <summary>
/// <c>cluster [--seconds 15] [--writers 6] [--projects 24] [--batch 200] [--runs 3] [--repeat 9] [--warm-seconds 5]
/// [--warm-queries 5] [--env NAME=VALUE]… [--set Area:Key=VALUE]… [--also-three Area:Key=VALUE]… [--silo-dll PATH]</c>: the same ingest and dashboard queries over psql's protocol (Npgsql) against one silo
/// and against three silos in cluster mode on one Azurite, on this machine's cores, so the ratio shows what the cluster
/// costs (target ≤ 1.2×); each <c>--also-three</c> setting adds a third configuration, three silos with that setting, measured in
/// the same runs (e.g. <c>Execution:GroupGrainCallsBySilo=false</c>, the per-grain fan-out). Writers spread their connections over the silos and their rows over the projects (one table
/// grain each, placed by Orleans); the queries fan out over every project.
/// </summary>
/// <remarks>
/// Fairness: both configurations are measured warm, since three silo processes JIT-compile the same code three
/// times: an untimed ingest of <c>--warm-seconds</c> through every silo, and each query <c>--warm-queries</c> times through
/// every silo, come before timing. Each run starts fresh silos under a cluster id of its own; runs alternate which configuration goes first,
/// so load from elsewhere on a shared machine falls on both. No timed flush falls inside a run (MaxBufferAge 10 min):
/// both configurations query the same state, every row in the buffers. Queries start only once the silos are idle
/// (their summed CPU over a 1 s window below 5 % of a core per silo, twice in a row), so no background work left by
/// ingest (buffer tails moving into DuckDB, compression) runs under the queries of one configuration and not the other.
/// Besides wall time, the CPU seconds of the silo processes and of Azurite (from /proc) are reported per row and per
/// query: on a loaded machine they move far less than wall time. Summary: medians over the runs, and the spread.
/// </remarks>
public static class ClusterBenchmark
{
    private static readonly string[] Queries =
    [
        "SELECT count(*) FROM otel_logs_and_spans WHERE {0}",
        "SELECT epoch_us(timestamp) // 1000000 AS second, level, count(*) AS n, quantile_cont(duration, 0.95) AS p95 FROM otel_logs_and_spans WHERE {0} GROUP BY 1, 2",
        "SELECT timestamp, id, project_id FROM otel_logs_and_spans WHERE {0} AND level = 'ERROR' ORDER BY timestamp DESC LIMIT 100",
    ];

    /// <summary>One configuration's figures in one run.</summary>
    private sealed record Measurement(int Silos, double RowsPerSecond, double SiloCpuUsPerRow, double AzuriteCpuUsPerRow, double QuiesceSeconds,
        double[] QueryMs, double[] QuerySiloCpuMs);

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 15);
        var writers = Option(args, "--writers", 6);
        var projects = Option(args, "--projects", 24);
        var batch = Option(args, "--batch", 200);
        var runs = Option(args, "--runs", 3);
        var repeat = Option(args, "--repeat", 9);
        var warmSeconds = Option(args, "--warm-seconds", 5);
        var warmQueries = Option(args, "--warm-queries", 5);
        var environment = Pairs(args, "--env");
        var extra = Pairs(args, "--set");
        // Another build of the silo, e.g. a ReadyToRun publish (dotnet publish src/Silo -c Release -r linux-x64 -o DIR).
        var siloDll = Array.IndexOf(args, "--silo-dll") is var at and >= 0 && at + 1 < args.Length ? Path.GetFullPath(args[at + 1]) : null;
        if (siloDll is not null) SiloProcess.DefaultSiloDll = siloDll;
        Console.WriteLine($"cluster bench: {seconds} s of ingest, {writers} writers, {projects} projects, {batch} rows per INSERT, {runs} runs, " +
                          $"{repeat} timed repetitions per query; {Environment.ProcessorCount} cores, load average {LoadAverage()}" +
                          (environment.Count > 0 ? "; silo environment " + string.Join(' ', environment.Select(p => $"{p.Key}={p.Value}")) : "") +
                          (extra.Count > 0 ? "; settings " + string.Join(' ', extra.Select(p => $"{p.Key}={p.Value}")) : "") +
                          "; silo " + SiloProcess.SiloDll);
        // Each run measures 1 silo, 3 silos, and 3 silos with each --also-three setting (e.g. the per-grain fan-out,
        // Execution:GroupGrainCallsBySilo=false): side by side, under the same load.
        var configurations = new List<(string Label, int Silos, IReadOnlyDictionary<string, string> Settings)>
        {
            ("1 silo", 1, extra), ("3 silos", 3, extra),
        };
        foreach (var (key, value) in Pairs(args, "--also-three"))
            configurations.Add(($"3 silos, {key}={value}", 3, new Dictionary<string, string>(extra) { [key] = value }));
        await using var azurite = await AzuriteProcess.StartAsync();
        var results = new List<Dictionary<string, Measurement>>();
        for (var run = 0; run < runs; run++)
        {
            // Alternate the order, so a trend in the machine's load does not favour one configuration.
            var order = run % 2 == 0 ? configurations : Enumerable.Reverse(configurations).ToList();
            var measured = new Dictionary<string, Measurement>();
            foreach (var (label, silos, settings) in order)
            {
                var m = await RunOnceAsync(azurite, silos, seconds, writers, projects, batch, repeat, warmSeconds, warmQueries, environment, settings);
                measured[label] = m;
                Console.WriteLine($"run {run + 1}, {label}: {m.RowsPerSecond:N0} rows/s, silo CPU {m.SiloCpuUsPerRow:N0} µs/row, Azurite CPU {m.AzuriteCpuUsPerRow:N0} µs/row; " +
                                  $"idle after {m.QuiesceSeconds:F1} s; queries median ms {Join(m.QueryMs)}, silo CPU ms/query {Join(m.QuerySiloCpuMs)}; load average {LoadAverage()}");
            }
            results.Add(measured);
        }

        foreach (var (label, _, _) in configurations.Skip(1))
        {
            Console.WriteLine();
            Console.WriteLine($"Per run, {label} against 1 silo (ratio = 3 silos ÷ 1 silo, time or CPU; for ingest rows/s of 1 ÷ 3):");
            Console.WriteLine("| run | rows/s 1 / 3 | ingest ratio | silo CPU µs/row 1 / 3 (ratio) | " + string.Join(" | ", Queries.Select((_, i) => $"query {i + 1} ms 1 / 3 (ratio) | query {i + 1} silo CPU ms 1 / 3 (ratio)")) + " |");
            Console.WriteLine("|---|---|---|---|" + string.Concat(Queries.Select(_ => "---|---|")));
            for (var run = 0; run < runs; run++)
            {
                var (one, three) = (results[run]["1 silo"], results[run][label]);
                Console.WriteLine($"| {run + 1} | {one.RowsPerSecond:N0} / {three.RowsPerSecond:N0} | {one.RowsPerSecond / three.RowsPerSecond:F2}× | " +
                                  $"{one.SiloCpuUsPerRow:N0} / {three.SiloCpuUsPerRow:N0} ({three.SiloCpuUsPerRow / one.SiloCpuUsPerRow:F2}×) | " +
                                  string.Join(" | ", Queries.Select((_, i) =>
                                      $"{one.QueryMs[i]:N0} / {three.QueryMs[i]:N0} ({three.QueryMs[i] / one.QueryMs[i]:F2}×) | " +
                                      $"{one.QuerySiloCpuMs[i]:N0} / {three.QuerySiloCpuMs[i]:N0} ({three.QuerySiloCpuMs[i] / one.QuerySiloCpuMs[i]:F2}×)")) + " |");
            }

            Console.WriteLine();
            Console.WriteLine($"Summary over {runs} run(s), {label}: median ratio (min–max), target ≤ 1.2×:");
            var pairs = results.Select(r => (One: r["1 silo"], Three: r[label])).ToList();
            Summary("ingest wall (rows/s 1 ÷ 3)", pairs.Select(r => r.One.RowsPerSecond / r.Three.RowsPerSecond));
            Summary("ingest silo CPU per row (3 ÷ 1)", pairs.Select(r => r.Three.SiloCpuUsPerRow / r.One.SiloCpuUsPerRow));
            for (var q = 0; q < Queries.Length; q++)
            {
                var i = q;
                Summary($"query {q + 1} wall (3 ÷ 1)", pairs.Select(r => r.Three.QueryMs[i] / r.One.QueryMs[i]));
                Summary($"query {q + 1} silo CPU (3 ÷ 1)", pairs.Select(r => r.Three.QuerySiloCpuMs[i] / r.One.QuerySiloCpuMs[i]));
            }
        }
        return 0;
    }

    private static void Summary(string what, IEnumerable<double> ratios)
    {
        var sorted = ratios.Order().ToList();
        Console.WriteLine($"  {what,-36} {Median(sorted):F2}× ({sorted[0]:F2}–{sorted[^1]:F2})");
    }

    private static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    private static string Join(double[] values) => string.Join(" / ", values.Select(m => m.ToString("N0", CultureInfo.InvariantCulture)));

    private static async Task<Measurement> RunOnceAsync(AzuriteProcess azurite, int count, int seconds, int writers, int projects, int batch, int repeat,
        int warmSeconds, int warmQueries, IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string> extra)
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
            // No timed flush inside a run: both configurations query the same state (every row buffered).
            ["Flush:MaxBufferAge"] = "00:10:00",
        };
        foreach (var (k, v) in extra) settings[k] = v;
        var silos = Enumerable.Range(1, count).Select(i => SiloProcess.Start(Path.Combine(root, "silo" + i), settings, environment: environment)).ToList();
        var pids = silos.Select(s => s.Pid).ToList();
        try
        {
            foreach (var silo in silos) await WaitForSqlAsync(silo, TimeSpan.FromMinutes(3));
            var inAll = "project_id IN (" + string.Join(", ", Enumerable.Range(0, projects).Select(p => $"'c{p:D2}'")) + ")";
            // Warm-up: every project's table grain activated (Delta created, ownership committed, WAL leased) before timing.
            await using (var warm = await OpenAsync(silos[0]))
            {
                for (var p = 0; p < projects; p++) await InsertAsync(warm, $"c{p:D2}", "warm", p, 1);
            }
            // Every silo runs the ingest path before timing (each process JIT-compiles it once; three silos do it thrice).
            await IngestAsync(silos, TimeSpan.FromSeconds(warmSeconds), writers, projects, batch, "warm");
            await WaitForIdleAsync(pids, TimeSpan.FromMinutes(2));

            Console.WriteLine($"  {count} silo(s) ingesting, pids {string.Join(' ', pids)}");
            var (siloCpu, azuriteCpu) = (ProcessCpu.Seconds(pids), ProcessCpu.Seconds(azurite.Pid));
            var clock = Stopwatch.StartNew();
            var rows = await IngestAsync(silos, TimeSpan.FromSeconds(seconds), writers, projects, batch, "w");
            var rate = rows / clock.Elapsed.TotalSeconds;
            var siloUsPerRow = (ProcessCpu.Seconds(pids) - siloCpu) * 1e6 / rows;
            var azuriteUsPerRow = (ProcessCpu.Seconds(azurite.Pid) - azuriteCpu) * 1e6 / rows;

            var quiesce = Stopwatch.StartNew();
            await WaitForIdleAsync(pids, TimeSpan.FromMinutes(2));
            var quiesceSeconds = quiesce.Elapsed.TotalSeconds;
            Console.WriteLine($"  {count} silo(s) querying, pids {string.Join(' ', pids)}");

            var medians = new double[Queries.Length];
            var cpu = new double[Queries.Length];
            for (var q = 0; q < Queries.Length; q++)
            {
                var sql = string.Format(CultureInfo.InvariantCulture, Queries[q], inAll);
                var times = new List<double>();
                var connections = new List<NpgsqlConnection>();
                try
                {
                    // One connection per silo, opened before timing: every silo is a front door, used in turn.
                    foreach (var silo in silos) connections.Add(await OpenAsync(silo));
                    // Warm-up through every door: each silo's gateway plans and merges, and JIT-compiles that code, itself.
                    for (var i = 0; i < warmQueries * connections.Count; i++) await ReadAllAsync(connections[i % connections.Count], sql);
                    var before = ProcessCpu.Seconds(pids);
                    for (var i = 0; i < repeat; i++)
                    {
                        var t = Stopwatch.StartNew();
                        await ReadAllAsync(connections[i % connections.Count], sql);
                        times.Add(t.Elapsed.TotalMilliseconds);
                    }
                    cpu[q] = (ProcessCpu.Seconds(pids) - before) * 1000 / repeat;
                }
                finally
                {
                    foreach (var c in connections) await c.DisposeAsync();
                }
                times.Sort();
                medians[q] = Median(times);
            }
            return new Measurement(count, rate, siloUsPerRow, azuriteUsPerRow, quiesceSeconds, medians, cpu);
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

    /// <summary><paramref name="writers"/> connections spread over the silos insert into every project for <paramref name="duration"/>; returns the rows.</summary>
    private static async Task<long> IngestAsync(IReadOnlyList<SiloProcess> silos, TimeSpan duration, int writers, int projects, int batch, string tag)
    {
        long rows = 0;
        using var stop = new CancellationTokenSource(duration);
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            await using var connection = await OpenAsync(silos[w % silos.Count]);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                await InsertAsync(connection, $"c{(w + n * writers) % projects:D2}", $"{tag}{w}", n, batch);
                Interlocked.Add(ref rows, batch);
            }
        })));
        return rows;
    }

    private static async Task ReadAllAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) { }
    }

    /// <summary>
    /// Polls the silos' summed CPU time over 1 s windows until two windows in a row stay under 5 % of a core per silo
    /// (what idle silos spend on membership and timers), or <paramref name="deadline"/> passes (then it says so).
    /// </summary>
    private static async Task WaitForIdleAsync(IReadOnlyList<int> pids, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        var quiet = 0;
        var last = ProcessCpu.Seconds(pids);
        while (quiet < 2)
        {
            if (clock.Elapsed > deadline)
            {
                Console.WriteLine($"  (silos not idle after {deadline.TotalSeconds:F0} s; measuring anyway)");
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(1)); // the sampling window of the condition polled
            var now = ProcessCpu.Seconds(pids);
            quiet = now - last <= 0.05 * pids.Count ? quiet + 1 : 0;
            last = now;
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

    /// <summary>Every <c>name KEY=VALUE</c> pair on the command line (the option may repeat).</summary>
    private static Dictionary<string, string> Pairs(string[] args, string name)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] != name) continue;
            var (key, value) = args[i + 1].Split('=', 2) is [var k, var v] ? (k, v) : throw new ArgumentException($"{name} takes KEY=VALUE, not '{args[i + 1]}'");
            pairs[key] = value;
        }
        return pairs;
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
