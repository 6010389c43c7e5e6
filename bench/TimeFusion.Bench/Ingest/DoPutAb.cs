using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// <c>doputab --variants name=dll[;Key=Value…],… [--pairs 16] [--rounds 2] [--rows 500000]</c>: the suite's Flight DoPut
/// burst (<see cref="TimeFusionDoPutIngest"/>) for each variant in turn, round after round, so that builds or settings are
/// compared back to back on a loaded machine (rows/s, ack p50/p99, the silo's peak memory).
/// </summary>
public static class DoPutAb
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var variants = (args.Get("variants") ?? throw new ArgumentException("--variants name=dll[;Key=Value…],…"))
            .Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(v =>
            {
                var (name, rest) = (v[..v.IndexOf('=')], v[(v.IndexOf('=') + 1)..]);
                var parts = rest.Split(';');
                var extra = parts.Skip(1).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
                return (Name: name, Dll: Path.GetFullPath(parts[0]), Extra: extra);
            }).ToList();
        var pairs = args.Int("pairs", 16);
        var rounds = args.Int("rounds", 2);
        var rows = args.Long("rows", 500_000);
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-doputab-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var set = await Dataset.GenerateAsync(Path.Combine(root, "rows.arrow"), rows, 8192, seed: 1);
        var batches = await set.LoadAsync();
        Console.WriteLine($"doputab: {rows:N0} rows, {pairs} pairs, {rounds} rounds");
        Console.WriteLine("| round | variant | rows/s | ack p50 ms | ack p99 ms | peak MiB | load average |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---|");
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (name, dll, extra) in variants)
            {
                SiloProcess.DefaultSiloDll = dll;
                var run = await TimeFusionDoPutIngest.RunAsync(batches, set.ArrowBytes, pairs, root, extra);
                var sorted = run.LatenciesMs.Order().ToArray();
                var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
                Console.WriteLine($"| {round} | {name} | {run.RowsPerSecond:N0} | {sorted[sorted.Length / 2]:N0} | {sorted[(int)(sorted.Length * 0.99)]:N0} | {run.PeakMemoryBytes / 1048576.0:N0} | {load} |");
            }
        }
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        return 0;
    }
}
