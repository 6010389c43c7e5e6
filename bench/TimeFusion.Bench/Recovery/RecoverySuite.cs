using Apache.Arrow;
using TimeFusion.Bench.Ingest;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Queries;
using TimeFusion.Bench.Suite;
using TimeFusion.Grains;

namespace TimeFusion.Bench.Recovery;

/// <summary>
/// A silo that never flushes is written until its WAL holds the target bytes over four tables, then killed (-9) and
/// restarted: time from process start to the first answered query (one table) and to every table answered (each
/// table replays its WAL on activation), with row counts checked; WAL replay MB/s = WAL bytes / (all answered −
/// client connected). The restart is repeated (kill -9 each time; nothing is flushed in between); with
/// <c>--recovery-compare OTHER/TimeFusion.Silo.dll</c> the other build and this one restart alternately on the same WAL.
/// </summary>
public static class RecoverySuite
{
    public const string Section = "Recovery";
    private const int Tables = 4;

    public static async Task RunAsync(SuiteResults results, SuiteOptions options, IReadOnlyList<RecordBatch> batches, string root)
    {
        var dataDir = Path.Combine(root, "silo-recovery");
        var projects = Enumerable.Range(0, Tables).Select(i => $"r{i}").ToArray();
        var expected = new long[Tables];
        long walBytes;
        await using (var silo = SiloProcess.Start(dataDir, SiloSettings.NoAutoFlush(), projects))
        {
            await silo.ConnectAsync(TimeSpan.FromSeconds(60));
            var admin = await silo.ClientAsync(Caller.Admin());
            var index = 0;
            while (silo.WalBytes < options.RecoveryWalBytes)
            {
                var chunk = Enumerable.Range(index, 8).Select(i => batches[i % batches.Count]).ToAsyncEnumerable();
                var start = index;
                await SiloLoader.LoadAsync(admin, chunk, start, i => [projects[i % Tables]], inFlight: 8);
                for (var i = start; i < start + 8; i++) expected[i % Tables] += batches[i % batches.Count].Length;
                index += 8;
            }
            walBytes = silo.WalBytes;
            await silo.KillAsync();
        }
        // With --recovery-compare, the other build and this one restart alternately on the same WAL (its format is
        // shared), so that before/after are measured side by side on a machine whose load drifts.
        (string Label, string? Dll)[] builds = options.RecoveryCompareDll is { } other ? [("before: ", other), ("after: ", null)] : [("", null)];
        var figures = builds.Select(_ => (First: new List<double>(), All: new List<double>(), Replay: new List<double>(), Tables: new List<string>())).ToArray();
        var cpu = builds.Select(_ => new List<double>()).ToArray();
        long recovered = 0;
        for (var run = 0; run < options.Runs; run++)
        {
            for (var k = 0; k < builds.Length; k++)
            {
                var b = run % 2 == 0 ? k : builds.Length - 1 - k;
                var (first, all, replay, tables) = figures[b];
                await using var silo = SiloProcess.Start(dataDir, SiloSettings.NoAutoFlush(), projects, builds[b].Dll);
                await silo.ConnectAsync(TimeSpan.FromSeconds(120));
                var connected = silo.SinceStart.Elapsed;
                var counts = new long[Tables];
                var answered = new double[Tables];
                counts[0] = await CountAsync(silo, projects[0]);
                answered[0] = silo.SinceStart.Elapsed.TotalSeconds;
                first.Add(answered[0]);
                var rest = await Task.WhenAll(projects.Skip(1).Select(async p =>
                {
                    var n = await CountAsync(silo, p);
                    return (n, silo.SinceStart.Elapsed.TotalSeconds);
                }));
                for (var t = 1; t < Tables; t++) (counts[t], answered[t]) = rest[t - 1];
                var done = silo.SinceStart.Elapsed;
                // The silo's CPU seconds from its start until every table answered (utime + stime from /proc).
                cpu[b].Add(ProcessCpu.Seconds(silo.Pid));
                all.Add(done.TotalSeconds);
                replay.Add(walBytes / 1e6 / (done - connected).TotalSeconds);
                tables.Add($"{string.Join(" / ", answered.Select(a => a.ToString("F1")))} s (connected {connected.TotalSeconds:F1} s)");
                recovered = (await Task.WhenAll(projects.Select(p => silo.Cluster.GetGrain<ITableGrain>(TableGrainKey.Format(p, "otel_logs_and_spans")).GetStatusAsync()))).Sum(s => s.RecoveredEntries);
                if (!counts.SequenceEqual(expected))
                    results.Note(Section, $"{builds[b].Label}run {run}: recovered row counts {string.Join("/", counts)} differ from the acknowledged {string.Join("/", expected)}.");
                await silo.KillAsync();
            }
        }
        var subject = $"kill -9 with {walBytes / 1e6:N0} MB of unflushed WAL over {Tables} tables ({expected.Sum():N0} rows, {recovered:N0} entries)";
        results.Note(Section, "Process start = the silo child process started; the client connects to the gateway, then queries count(*) on one table (its grain activates and replays its WAL), " +
                              $"then on the other {Tables - 1} at once. Counts are checked against the acknowledged rows. The WAL files are in the page cache (a restart right after the crash).");
        if (builds.Length > 1)
            results.Note(Section, $"before = {options.RecoveryCompareDll}, after = this build; they restarted alternately on the same WAL (kill -9 each time).");
        for (var b = 0; b < builds.Length; b++)
        {
            var (first, all, replay, tables) = figures[b];
            var label = builds[b].Label;
            results.Note(Section, $"{label}each table answered (tables 0–3, per run): {string.Join("; ", tables)}.");
            results.Add(Section, label + subject, "first answered query s", first, expected.Sum(), "≤ 5 s", Stats.Median(first) <= 5);
            results.Add(Section, label + subject, "all tables answered s", all, expected.Sum(), "≤ 5 s", Stats.Median(all) <= 5);
            results.Add(Section, label + subject, "WAL replay MB/s", replay, expected.Sum(), "≥ 500 MB/s", Stats.Median(replay) >= 500);
            results.Add(Section, label + subject, "silo CPU s until all tables answered", cpu[b], expected.Sum());
        }
    }

    private static async Task<long> CountAsync(SiloProcess silo, string project)
    {
        var result = await silo.QueryUntilAnsweredAsync(Caller.ForProject(project), "SELECT count(*) FROM otel_logs_and_spans", TimeSpan.FromMinutes(10));
        return ((Int64Array)result.Batches.First(b => b.Length > 0).Column(0)).GetValue(0) ?? 0;
    }
}
