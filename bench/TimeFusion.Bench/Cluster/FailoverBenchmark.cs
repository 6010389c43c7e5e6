using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Cluster;

/// <summary>
/// <c>failover [--projects 24] [--runs 1] [--settings default,tuned]</c>: three silos in cluster mode on one Azurite,
/// one writer per project inserting 10-row batches through the two silos that stay; then the silo hosting the most
/// table grains (not the first, which the probes ask) is SIGKILLed. Measures, per setting, how long until a surviving
/// silo's membership view shows it dead, and how long until each of its projects acknowledges an INSERT again (the
/// issue's "time to detect a dead silo and to have its tables answering again": target ≤ 30 s with default settings,
/// ≤ 10 s tuned). Timing starts at the kill; writers retry every failure after 50 ms (on a fresh connection when theirs broke).
/// </summary>
public static class FailoverBenchmark
{
    private static readonly Dictionary<string, Dictionary<string, string>> Settings = new(StringComparer.Ordinal)
    {
        ["default"] = new(),
        ["tuned"] = new() { ["Cluster:ProbeTimeout"] = "00:00:01", ["Cluster:MissedProbesLimit"] = "2" },
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var projects = Option(args, "--projects", 24);
        var runs = Option(args, "--runs", 1);
        var i = Array.IndexOf(args, "--settings");
        var names = i >= 0 && i + 1 < args.Length ? args[i + 1].Split(',') : ["default", "tuned"];
        Console.WriteLine($"failover bench: 3 silos, {projects} projects, settings {string.Join(", ", names)}, {runs} run(s); " +
                          $"{Environment.ProcessorCount} cores, load average {LoadAverage()}");
        await using var azurite = await AzuriteProcess.StartAsync();
        var rows = new List<string>();
        for (var run = 0; run < runs; run++)
        {
            foreach (var name in names)
            {
                var r = await RunOnceAsync(azurite, Settings[name], projects);
                var line = $"| {name} | {run + 1} | {r.VictimProjects} | {r.DetectedSeconds:F1} | {r.MedianSeconds:F1} | {r.AllSeconds:F1} | {r.Load} |";
                Console.WriteLine(line);
                rows.Add(line);
            }
        }
        Console.WriteLine();
        Console.WriteLine("| settings | run | projects on the killed silo | SIGKILL → seen dead (s) | → median project writable (s) | → all its projects writable (s) | load average |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);
        return 0;
    }

    private sealed record Outcome(int VictimProjects, double DetectedSeconds, double MedianSeconds, double AllSeconds, string Load);

    private static async Task<Outcome> RunOnceAsync(AzuriteProcess azurite, Dictionary<string, string> extra, int projects)
    {
        var clusterId = "f" + Guid.NewGuid().ToString("N")[..12];
        var root = Path.Combine(Path.GetTempPath(), "tf-failover-bench-" + clusterId);
        var settings = new Dictionary<string, string>(extra)
        {
            ["Cluster:ConnectionString"] = azurite.ConnectionString,
            ["Cluster:ClusterId"] = clusterId,
            // SDK session tokens must verify on every silo: one signing key for the cluster (a bench key).
            ["Sdk:SessionSecret"] = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("timefusion-bench-cluster"u8)),
            ["Execution:MaxConcurrentStatementsPerUser"] = "64",
        };
        var silos = Enumerable.Range(1, 3).Select(n => SiloProcess.Start(Path.Combine(root, "silo" + n), settings)).ToList();
        using var stop = new CancellationTokenSource();
        var writers = new List<Task>();
        try
        {
            foreach (var silo in silos) await WaitForSqlAsync(silo, TimeSpan.FromMinutes(3));
            var names = Enumerable.Range(0, projects).Select(p => $"f{p:D2}").ToList();
            await using (var warm = await OpenAsync(silos[0]))
            {
                foreach (var project in names) await InsertAsync(warm, project, "warm", 0);
            }
            var placement = await PlacementAsync(silos[0]);
            // The victim: whichever of silos 2 and 3 hosts more table grains (silo 1 answers the membership probes).
            var victim = silos.Skip(1).OrderByDescending(s => placement.Count(p => p.Value == Endpoint(s))).First();
            var survivors = silos.Where(s => s != victim).ToList();
            var onVictim = placement.Where(p => p.Value == Endpoint(victim)).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
            if (onVictim.Count == 0) throw new InvalidOperationException("no table grain landed on silos 2 and 3");

            // Writers for every project (the cluster under load), each through a survivor.
            var acked = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            var recovered = new ConcurrentDictionary<string, double>(StringComparer.Ordinal);
            var kill = new KillClock();
            for (var p = 0; p < names.Count; p++)
            {
                var (project, door) = (names[p], survivors[p % survivors.Count]);
                writers.Add(Task.Run(() => WriteLoopAsync(door, project, kill, acked, recovered, stop.Token)));
            }
            // Every writer acknowledged once through its door before the kill.
            var warmDeadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (acked.Count < names.Count && DateTime.UtcNow < warmDeadline) await Task.Delay(50); // polling a condition
            await Task.Delay(2000); // a steady-state window under load before the kill (a measurement window, not a wait for a condition)

            kill.Start();
            await victim.KillAsync();
            var detectedSeconds = await WaitForDeadAsync(survivors[0], Endpoint(victim), TimeSpan.FromMinutes(3));
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (onVictim.Any(p => !recovered.ContainsKey(p)) && DateTime.UtcNow < deadline) await Task.Delay(20); // polling a condition
            var missing = onVictim.Count(p => !recovered.ContainsKey(p));
            if (missing > 0) throw new InvalidOperationException($"{missing} projects never became writable again");
            var times = onVictim.Select(p => recovered[p]).Order().ToList();
            return new Outcome(onVictim.Count, detectedSeconds, times[times.Count / 2], times[^1], LoadAverage());

            async Task<double> WaitForDeadAsync(SiloProcess probe, string endpoint, TimeSpan timeout)
            {
                var until = DateTime.UtcNow + timeout;
                while (DateTime.UtcNow < until)
                {
                    try
                    {
                        await using var connection = await OpenAsync(probe);
                        await using var command = new NpgsqlCommand("SELECT status FROM timefusion.silos WHERE address = $1 ORDER BY start_time DESC LIMIT 1", connection);
                        command.Parameters.AddWithValue(endpoint);
                        if (await command.ExecuteScalarAsync() as string == "dead") return kill.Seconds;
                    }
                    catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
                    {
                        // The probe itself may fail while the cluster reorganizes; ask again.
                    }
                    await Task.Delay(100); // polling a condition
                }
                throw new TimeoutException("the killed silo was never declared dead");
            }
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(writers);
            }
            catch (OperationCanceledException)
            {
                // Writers stop on cancellation.
            }
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

    /// <summary>Seconds since the kill (Stopwatch), or not started.</summary>
    private sealed class KillClock
    {
        private long _startTicks;

        public void Start() => Volatile.Write(ref _startTicks, Stopwatch.GetTimestamp());

        public bool Started => Volatile.Read(ref _startTicks) != 0;

        /// <summary>Whether a timestamp is after the kill.</summary>
        public bool After(long timestamp) => Started && timestamp > Volatile.Read(ref _startTicks);

        public double Seconds => Stopwatch.GetElapsedTime(Volatile.Read(ref _startTicks)).TotalSeconds;
    }

    /// <summary>
    /// Inserts until cancelled. The first INSERT of a project that was sent after the kill and acknowledged marks the
    /// project as writable again (an INSERT sent before the kill and stuck on the dead silo does not count).
    /// </summary>
    private static async Task WriteLoopAsync(SiloProcess door, string project, KillClock kill, ConcurrentDictionary<string, bool> acked,
        ConcurrentDictionary<string, double> recovered, CancellationToken stop)
    {
        NpgsqlConnection? connection = null;
        try
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    connection ??= await OpenAsync(door);
                    await InsertAsync(connection, project, "w", n);
                    acked[project] = true;
                    if (kill.After(sent)) recovered.TryAdd(project, kill.Seconds);
                }
                catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    if (connection is not null) await connection.DisposeAsync();
                    connection = null;
                    if (stop.IsCancellationRequested) return;
                    await Task.Delay(50, CancellationToken.None); // retry back-off after a refusal
                }
            }
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    private static async Task<Dictionary<string, string>> PlacementAsync(SiloProcess silo)
    {
        await using var connection = await OpenAsync(silo);
        await using var command = new NpgsqlCommand(
            "SELECT t.project_id, s.address FROM timefusion.tables t JOIN timefusion.silos s ON s.silo = t.silo WHERE t.table_name = 'otel_logs_and_spans'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var placement = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync()) placement[reader.GetString(0)] = reader.GetString(1);
        return placement;
    }

    private static string Endpoint(SiloProcess silo) => "127.0.0.1:" + silo.SiloPort.ToString(CultureInfo.InvariantCulture);

    private static async Task InsertAsync(NpgsqlConnection connection, string project, string writer, int n)
    {
        var values = string.Join(", ", Enumerable.Range(0, 10).Select(k => $"('{project}', '{writer}-{n}-{k}-{Guid.NewGuid():N}', now(), 'INFO', {k})"));
        await using var command = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level, duration) VALUES {values}", connection);
        await command.ExecuteNonQueryAsync();
    }

    // Connections, readiness, options and load as the cluster bench has them.
    private static Task<NpgsqlConnection> OpenAsync(SiloProcess silo) => ClusterBenchmark.OpenAsync(silo);

    private static Task WaitForSqlAsync(SiloProcess silo, TimeSpan timeout) => ClusterBenchmark.WaitForSqlAsync(silo, timeout);

    private static int Option(string[] args, string name, int fallback) => ClusterBenchmark.Option(args, name, fallback);

    private static string LoadAverage() => ClusterBenchmark.LoadAverage();
}
