using System.Diagnostics;
using System.Globalization;
using System.Text;
using TimeFusion.Bench.Peers;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// <c>bigcopy [GiB] [--silo-dll PATH]</c>: one CSV file of the given size (default 1 GiB; 11 columns, rows of 3 projects interleaved) loaded with psql <c>\copy</c>
/// by an admin into TimeFusion (streamed, all-or-nothing COPY; a 256 MiB buffer budget) and into PostgreSQL 15 (a table
/// indexed on (project_id, timestamp)) in the same run: rows/s of each and the silo's peak resident memory.
/// </summary>
public static class BigCopyBenchmark
{
    // The issue's shape: 11 columns of otel_logs_and_spans, rows of 3 projects interleaved.
    private const string Columns = "project_id, id, timestamp, level, body, name, kind, status_code, duration, context___trace_id, resource___service___name";

    public static async Task<int> RunAsync(string[] args)
    {
        var gib = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? double.Parse(args[0], CultureInfo.InvariantCulture) : 1.0;
        // --silo-dll: the deployment form (a platform publish: ReadyToRun, tiered compilation off) instead of this build.
        if (new BenchArgs(args).Get("silo-dll") is { } siloDll) SiloProcess.DefaultSiloDll = Path.GetFullPath(siloDll);
        var root = Path.Combine(Path.GetTempPath(), "tf-bigcopy-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try
        {
            var file = Path.Combine(root, "rows.csv");
            var rows = WriteCsv(file, (long)(gib * (1L << 30)));
            var bytes = new FileInfo(file).Length;
            Console.WriteLine($"{rows:N0} rows, {bytes / 1048576.0:N0} MiB of CSV");
            // Both servers first load a small file (not timed): a long-running server is warm, and the silo's JIT would
            // otherwise take a third of a short COPY's CPU.
            var warm = Path.Combine(root, "warm.csv");
            var warmRows = WriteCsv(warm, 16L << 20);

            TimeSpan pgTime;
            string pgVersion;
            await using (var pg = await PostgresPeer.StartAsync())
            {
                pgVersion = pg.Version;
                await pg.ExecuteAsync("CREATE TABLE otel (project_id text NOT NULL, id text NOT NULL, timestamp timestamptz NOT NULL, level text, body jsonb, " +
                    "name text, kind text, status_code text, duration bigint, context___trace_id text, resource___service___name text)");
                await pg.ExecuteAsync("CREATE INDEX ON otel (project_id, timestamp)");
                await PsqlAsync($"host=127.0.0.1 port={pg.Port} user=bench dbname=postgres", null, $@"\copy otel ({Columns}) from '{warm}' with (format csv)");
                var clock = Stopwatch.StartNew();
                await PsqlAsync($"host=127.0.0.1 port={pg.Port} user=bench dbname=postgres", null, $@"\copy otel ({Columns}) from '{file}' with (format csv)");
                pgTime = clock.Elapsed;
            }

            var settings = SiloSettings.Ingest();
            settings["Buffer:SoftLimitBytes"] = (128L << 20).ToString();
            settings["Buffer:HardLimitBytes"] = (256L << 20).ToString();
            settings["Postgres:StatementTimeout"] = "00:00:00"; // a multi-GB COPY runs longer than the default minute
            settings["Users:0:Name"] = "admin";
            settings["Users:0:PasswordOrScramSecret"] = "bench";
            settings["Users:0:IsAdmin"] = "true";
            settings["Users:0:Projects:0"] = "p0";
            await using var silo = SiloProcess.Start(Path.Combine(root, "silo"), settings);
            await silo.ConnectAsync(TimeSpan.FromSeconds(60));
            await FreePorts.WaitUntilListeningAsync(silo.PostgresPort, TimeSpan.FromSeconds(30), silo.LogTail);
            var tf = $"host=127.0.0.1 port={silo.PostgresPort} user=admin dbname=timefusion sslmode=disable";
            await PsqlAsync(tf, "bench", $@"\copy otel_logs_and_spans ({Columns}) from '{warm}' with (format csv)");
            var before = silo.RssBytes;
            var cpuBefore = silo.CpuTime;
            var tfClock = Stopwatch.StartNew();
            await PsqlAsync(tf, "bench", $@"\copy otel_logs_and_spans ({Columns}) from '{file}' with (format csv)");
            var tfTime = tfClock.Elapsed;
            var cpu = silo.CpuTime - cpuBefore;
            var peak = silo.PeakRssBytes;
            var counted = long.Parse((await PsqlAsync(tf, "bench", "SELECT count(*) FROM otel_logs_and_spans", "-At")).Trim(), CultureInfo.InvariantCulture);
            if (counted != rows + warmRows) throw new InvalidOperationException($"TimeFusion holds {counted} rows, the files {rows + warmRows}");

            Console.WriteLine();
            Console.WriteLine("| psql \\copy, CSV, 3 projects, admin | rows | MiB | seconds | rows/s | silo peak RSS (MiB) |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            Console.WriteLine($"| TimeFusion (streamed COPY, 256 MiB buffer budget) | {rows:N0} | {bytes / 1048576.0:N0} | {tfTime.TotalSeconds:N1} | {rows / tfTime.TotalSeconds:N0} | {peak / 1048576.0:N0} (before the COPY: {before / 1048576.0:N0}) |");
            Console.WriteLine($"| PostgreSQL {pgVersion}, indexed on (project_id, timestamp) | {rows:N0} | {bytes / 1048576.0:N0} | {pgTime.TotalSeconds:N1} | {rows / pgTime.TotalSeconds:N0} | – |");
            Console.WriteLine($"TimeFusion / PostgreSQL: {pgTime.TotalSeconds / tfTime.TotalSeconds:N2}×; the silo's CPU {cpu.TotalSeconds:N1} s = {cpu.TotalMicroseconds / rows:N1} µs per row ({cpu / tfTime:N2} cores); both warmed up with {warmRows:N0} rows first");
            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Writes CSV rows (~200 bytes each, projects p0–p2 interleaved) until the file holds <paramref name="target"/> bytes.</summary>
    private static long WriteCsv(string path, long target)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        var start = new DateTime(2026, 11, 25, 0, 0, 0, DateTimeKind.Utc);
        long rows = 0, written = 0;
        var line = new StringBuilder(256);
        while (written < target)
        {
            line.Clear();
            line.Append('p').Append(rows % 3).Append(",id-").Append(rows).Append(',')
                .Append(start.AddTicks(rows * 10_000).ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).Append("+00,")
                .Append((rows % 7) switch { 0 => "ERROR", 1 => "WARN", _ => "INFO" })
                .Append(",\"\"\"request ").Append(rows).Append(" handled by service-").Append(rows % 17)
                .Append(" in ").Append(rows % 997).Append(" ms; user agent Mozilla/5.0 (X11; Linux x86_64) path /api/v1/items\"\"\"") // body is JSON: a JSON string
                .Append(",GET /api/v1/items/").Append(rows % 101).Append(",SPAN_KIND_SERVER,").Append(rows % 13 == 0 ? "STATUS_CODE_ERROR" : "STATUS_CODE_OK")
                .Append(',').Append(rows % 1_000_003 * 1000).Append(',').Append((rows * 2654435761L).ToString("x16", CultureInfo.InvariantCulture))
                .Append(",service-").Append(rows % 17).Append('\n');
            writer.Write(line);
            written += line.Length;
            rows++;
        }
        return rows;
    }

    private static async Task<string> PsqlAsync(string connection, string? password, string command, string? flag = null)
    {
        var info = new ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        if (password is not null) info.Environment["PGPASSWORD"] = password;
        info.ArgumentList.Add(connection);
        info.ArgumentList.Add("-X");
        info.ArgumentList.Add("-w");
        info.ArgumentList.Add("-v");
        info.ArgumentList.Add("ON_ERROR_STOP=1");
        if (flag is not null) info.ArgumentList.Add(flag);
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var p = Process.Start(info) ?? throw new InvalidOperationException("psql did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"psql failed ({p.ExitCode}): {await stderr}");
        return await stdout;
    }
}
