using System.Diagnostics;
using System.Globalization;
using Npgsql;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Queries;

/// <summary>
/// <c>bigresult [GB] [before-silo.dll]</c>: one SELECT whose result is the given size (default 1 GB: rows of ~1 KB, one
/// table grain's row joined with range(n)) read over Npgsql from a fresh silo: time to the first row, total time, the
/// silo's peak resident memory (VmHWM) and what it still holds afterwards (VmRSS). With a second silo build (e.g. main's
/// <c>src/Silo/bin/Release/net10.0/TimeFusion.Silo.dll</c>) both run one after the other in the same process: before
/// and after side by side. <c>Execution:MaxResultBytes</c> is 0 so that a build that gathers results can answer at all.
/// <c>--projects N</c> spreads the rows over N projects (N table grains; an admin's statement without a project
/// predicate), <c>--ordered</c> adds <c>ORDER BY r.range, o.project_id</c> (the grains' sorted streams merged).
/// </summary>
public static class BigResultBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var ordered = args.Contains("--ordered");
        var at = Array.IndexOf(args, "--projects");
        var projects = at >= 0 ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : 1;
        args = args.Where((a, i) => a != "--ordered" && !(at >= 0 && (i == at || i == at + 1))).ToArray();
        var gb = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 1.0;
        var perProject = (long)(gb * 1e9 / 1007) / projects;
        var rows = perProject * projects;
        var builds = new List<(string Name, string? Dll)>();
        if (args.Length > 1) builds.Add(("before (" + args[1] + ")", args[1]));
        builds.Add(("after (this build)", null));
        var lines = new List<string>();
        foreach (var (name, dll) in builds)
        {
            var root = Path.Combine(Path.GetTempPath(), "tf-bigresult-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                var settings = new Dictionary<string, string>
                {
                    ["Execution:MaxResultBytes"] = "0",
                    ["Postgres:StatementTimeout"] = "00:00:00",
                    ["Users:0:Name"] = "admin", ["Users:0:PasswordOrScramSecret"] = "bench", ["Users:0:IsAdmin"] = "true", ["Users:0:Projects:0"] = "p0",
                };
                await using var silo = SiloProcess.Start(root, settings, siloDll: dll);
                await silo.ConnectAsync(TimeSpan.FromSeconds(60));
                await TimeFusion.Tests.Infrastructure.FreePorts.WaitUntilListeningAsync(silo.PostgresPort, TimeSpan.FromSeconds(30), silo.LogTail);
                var cs = new NpgsqlConnectionStringBuilder
                {
                    Host = "127.0.0.1", Port = silo.PostgresPort, Username = "admin", Password = "bench", Database = "timefusion",
                    Pooling = false, CommandTimeout = 0, SslMode = SslMode.Disable,
                }.ConnectionString;
                await using var connection = new NpgsqlConnection(cs);
                await connection.OpenAsync();
                var values = string.Join(", ", Enumerable.Range(0, projects).Select(p => $"('p{p}', 'r{p}', now(), 'INFO')"));
                await using (var insert = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level) VALUES {values}", connection))
                    await insert.ExecuteNonQueryAsync();
                var idle = silo.PeakRssBytes;
                var sql = $"SELECT repeat('x', 1000) || r.range::varchar AS s FROM otel_logs_and_spans o, range({perProject}) r"
                    + (ordered ? " ORDER BY r.range, o.project_id" : "");
                var clock = Stopwatch.StartNew();
                TimeSpan first = default;
                long read = 0, bytes = 0;
                string? failure = null;
                try
                {
                    await using var command = new NpgsqlCommand(sql, connection);
                    await using var reader = await command.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                        if (read == 0) first = clock.Elapsed;
                        bytes += reader.GetString(0).Length;
                        read++;
                    }
                }
                catch (PostgresException e)
                {
                    // A build that gathers the result may not answer at all: its error and when it came are the figure.
                    failure = $"{e.SqlState} after {clock.Elapsed.TotalSeconds:N1} s: {e.MessageText}";
                }
                var total = clock.Elapsed;
                var peak = silo.PeakRssBytes;
                var after = silo.RssBytes;
                if (failure is null && read != rows) throw new InvalidOperationException($"{read} rows read, {rows} expected");
                var line = failure is null
                    ? $"| {name} | {read:N0} | {bytes / 1e9:N2} | {first.TotalSeconds:N2} | {total.TotalSeconds:N1} | {peak >> 20:N0} (idle {idle >> 20:N0}) | {after >> 20:N0} |"
                    : $"| {name} | {rows:N0} asked | failed: {failure} | – | {total.TotalSeconds:N1} | {peak >> 20:N0} (idle {idle >> 20:N0}) | {after >> 20:N0} |";
                line = line.Replace($"| {name} |", $"| {name}, {projects} project(s){(ordered ? ", ordered" : "")} |");
                Console.WriteLine(line);
                lines.Add(line);
            }
            finally
            {
                try { Directory.Delete(root, recursive: true); } catch (IOException) { }
            }
        }
        Console.WriteLine();
        Console.WriteLine("| build | rows | GB of rows | first row (s) | all rows (s) | silo peak RSS, MiB | silo RSS after, MiB |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var l in lines) Console.WriteLine(l);
        return 0;
    }
}
