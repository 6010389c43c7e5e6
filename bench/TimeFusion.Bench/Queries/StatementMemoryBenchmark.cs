using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Queries;

/// <summary>
/// <c>statementmemory [--projects N] [--rows R] [--pad P] [--only NAME] [--silo-dll PATH]</c>: statements over N projects (N table grains, R rows each,
/// every row ~P × 9 bytes wide at query time) read over Npgsql as the admin, each statement from a fresh silo per setting
/// (DuckDB's <c>memory_limit</c> 512 MiB in both):
/// "unbounded" (<c>StatementMemoryBytes</c> 0, <c>NewestFirstGatherRows</c> huge — results gathered as before the limit
/// existed) and "bounded" (<c>StatementMemoryBytes</c> 64 MiB, newest-first with a large LIMIT streamed). For each
/// statement: rows, time to first row and to the end (or the error), and the silo's peak resident memory during it
/// (VmHWM reset before each statement).
/// </summary>
public static class StatementMemoryBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int Arg(string name, int fallback)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
        }
        var projects = Arg("--projects", 16);
        var rows = Arg("--rows", 2000);
        var pad = Arg("--pad", 1300);
        var all = (long)projects * rows;
        string? Text(string name) => Array.IndexOf(args, name) is >= 0 and var at ? args[at + 1] : null;
        var siloDll = Text("--silo-dll"); // another build, for before/after side by side
        var only = Text("--only"); // statements whose name contains this
        var statements = new (string Name, string Sql)[]
        {
            ("newest-first, every row", $"SELECT id, repeat(id, {pad}) AS pad FROM otel_logs_and_spans ORDER BY timestamp DESC LIMIT {all}"),
            // Fewer rows than the grains hold together, more than each holds: one phase sorts up to n rows on every grain.
            ("newest-first, LIMIT 12,000", $"SELECT id, repeat(id, {pad}) AS pad FROM otel_logs_and_spans ORDER BY timestamp DESC LIMIT 12000"),
            ("sorted merge", $"SELECT id, repeat(id, {pad}) AS pad FROM otel_logs_and_spans ORDER BY id"),
            ("aggregate, a group per row", $"SELECT id, max(repeat(id, {pad})) AS pad FROM otel_logs_and_spans GROUP BY id"),
        };
        var modes = new (string Name, Dictionary<string, string> Settings)[]
        {
            ("unbounded", new() { ["Execution:StatementMemoryBytes"] = "0", ["Execution:NewestFirstGatherRows"] = long.MaxValue.ToString(CultureInfo.InvariantCulture) }),
            ("bounded 64 MiB", new() { ["Execution:StatementMemoryBytes"] = (64L << 20).ToString(CultureInfo.InvariantCulture) }),
        };
        var lines = new List<string>();
        foreach (var (mode, extra) in modes)
        foreach (var (name, sql) in statements.Where(s => only is null || s.Name.Contains(only, StringComparison.Ordinal)))
        {
            // A fresh silo per statement: DuckDB's allocator and the GC keep what an earlier statement reached.
            var root = Path.Combine(Path.GetTempPath(), "tf-stmtmem-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                var settings = new Dictionary<string, string>(extra)
                {
                    ["Execution:MaxResultBytes"] = "0",
                    ["Buffer:MemoryLimitBytes"] = (512L << 20).ToString(CultureInfo.InvariantCulture),
                    ["Buffer:SoftLimitBytes"] = (128L << 20).ToString(CultureInfo.InvariantCulture),
                    ["Buffer:HardLimitBytes"] = (256L << 20).ToString(CultureInfo.InvariantCulture),
                    ["Postgres:StatementTimeout"] = "00:00:00",
                    ["Users:0:Name"] = "admin", ["Users:0:PasswordOrScramSecret"] = "bench", ["Users:0:IsAdmin"] = "true", ["Users:0:Projects:0"] = "p0",
                };
                await using var silo = SiloProcess.Start(root, settings, siloDll: siloDll);
                await silo.ConnectAsync(TimeSpan.FromSeconds(60));
                await TimeFusion.Tests.Infrastructure.FreePorts.WaitUntilListeningAsync(silo.PostgresPort, TimeSpan.FromSeconds(30), silo.LogTail);
                var cs = new NpgsqlConnectionStringBuilder
                {
                    Host = "127.0.0.1", Port = silo.PostgresPort, Username = "admin", Password = "bench", Database = "timefusion",
                    Pooling = false, CommandTimeout = 0, SslMode = SslMode.Disable,
                }.ConnectionString;
                await LoadAsync(cs, projects, rows);
                File.WriteAllText($"/proc/{silo.Pid}/clear_refs", "5"); // VmHWM from here
                var before = silo.RssBytes;
                var clock = Stopwatch.StartNew();
                TimeSpan first = default;
                long read = 0, bytes = 0;
                string? failure = null;
                await using (var connection = new NpgsqlConnection(cs))
                {
                    await connection.OpenAsync();
                    try
                    {
                        await using var command = new NpgsqlCommand(sql, connection);
                        await using var reader = await command.ExecuteReaderAsync();
                        while (await reader.ReadAsync())
                        {
                            if (read == 0) first = clock.Elapsed;
                            bytes += reader.GetString(1).Length;
                            read++;
                        }
                    }
                    catch (PostgresException e)
                    {
                        failure = $"`{e.SqlState}` after {clock.Elapsed.TotalSeconds:N1} s";
                    }
                }
                var total = clock.Elapsed;
                var peak = silo.PeakRssBytes;
                var line = failure is null
                    ? $"| {mode} | {name} | {read:N0} rows, {bytes >> 20:N0} MiB | {first.TotalSeconds:N2} | {total.TotalSeconds:N1} | {before >> 20:N0} | {peak >> 20:N0} |"
                    : $"| {mode} | {name} | failed: {failure} | – | {total.TotalSeconds:N1} | {before >> 20:N0} | {peak >> 20:N0} |";
                Console.WriteLine(line);
                lines.Add(line);
            }
            finally
            {
                try { Directory.Delete(root, recursive: true); } catch (IOException) { }
            }
        }
        Console.WriteLine();
        Console.WriteLine($"{projects} projects × {rows:N0} rows, ~{pad * 9 / 1024.0:N1} KB a row at query time");
        Console.WriteLine("| setting | statement | result | first row (s) | all (s) | silo RSS before, MiB | silo peak RSS during, MiB |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|");
        foreach (var l in lines) Console.WriteLine(l);
        return 0;
    }

    /// <summary>Rows of each project with distinct timestamps (row k of project i is k × N + i ms older than the newest).</summary>
    private static async Task LoadAsync(string cs, int projects, int rows)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        var newest = DateTime.UtcNow.AddMinutes(-1);
        for (var i = 0; i < projects; i++)
        {
            var sql = new StringBuilder("INSERT INTO otel_logs_and_spans (project_id, id, timestamp) VALUES ");
            for (var k = 0; k < rows; k++)
            {
                var ts = newest.AddMilliseconds(-((long)k * projects + i));
                sql.Append(k == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"('p{i:D2}', 'p{i:D2}-{k:D6}', '{ts:yyyy-MM-dd HH:mm:ss.ffffff}+00')");
            }
            await using var insert = new NpgsqlCommand(sql.ToString(), connection);
            await insert.ExecuteNonQueryAsync();
        }
    }
}
