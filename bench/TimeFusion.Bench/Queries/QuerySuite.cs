using System.Diagnostics;
using DuckDB.NET.Data;
using TimeFusion.Bench.Ingest;
using TimeFusion.Bench.Limits;
using TimeFusion.Bench.Memory;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Grains;
using TimeFusion.Storage;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Queries;

/// <summary>
/// The dashboard queries over the query data set, half flushed to Delta and half buffered, in one silo process:
/// TimeFusion through the SDK, DuckDB over the very same Parquet (Delta's files plus the buffered half written as
/// Parquet), PostgreSQL over the same rows; cold and warm. Plus the 3-project fan-out against one engine.
/// </summary>
public static class QuerySuite
{
    public const string Section = "Queries";
    public const string Project = "p-bench";
    private static readonly string[] FanOutProjects = ["f0", "f1", "f2"];
    private const string FanOutAll = "fall";

    public static async Task RunAsync(SuiteResults results, SuiteOptions options, Dataset main, Dataset fanOut, PostgresPeer? pg, string root)
    {
        var dataDir = Path.Combine(root, "silo-query");
        var half = (int)(main.Batches / 2);
        var fanHalf = (int)(fanOut.Batches / 2);
        long bufferedRows;
        List<string> deltaFiles;
        var silo = SiloProcess.Start(dataDir, SiloSettings.NoAutoFlush(), [Project, .. FanOutProjects, FanOutAll]);
        try
        {
            await silo.ConnectAsync(TimeSpan.FromSeconds(60));
            var admin = await silo.ClientAsync(Caller.Admin());
            var baselineRss = silo.RssBytes;
            // Load: the first halves, FLUSH, the second halves (which stay buffered: nothing flushes unless asked).
            var clock = Stopwatch.StartNew();
            var loaded = await SiloLoader.LoadAsync(admin, main.ReadAsync(0, half), 0, _ => [Project]);
            loaded += await SiloLoader.LoadAsync(admin, fanOut.ReadAsync(0, fanHalf), 0, i => [FanOutProjects[i % 3], FanOutAll]);
            var loadFirst = clock.Elapsed;
            clock.Restart();
            var flushed = await admin.FlushAsync();
            var flushTime = clock.Elapsed;
            clock.Restart();
            var second = await SiloLoader.LoadAsync(admin, main.ReadAsync(half, (int)main.Batches), half, _ => [Project]);
            second += await SiloLoader.LoadAsync(admin, fanOut.ReadAsync(fanHalf, (int)fanOut.Batches), fanHalf, i => [FanOutProjects[i % 3], FanOutAll]);
            var loadSecond = clock.Elapsed;
            bufferedRows = main.Rows - (long)half * main.BatchRows;
            results.Note(Section, $"TimeFusion loaded {loaded + second:N0} rows (the {main.Rows:N0}-row query set in project {Project}, and the {fanOut.Rows:N0}-row fan-out set in each of " +
                                  $"{string.Join("/", FanOutProjects)} (split) and {FanOutAll} (whole)) through the SDK, 4 calls in flight, durable: " +
                                  $"{(loaded + second) / (loadFirst + loadSecond).TotalSeconds:N0} rows/s; FLUSH of {flushed:N0} rows took {flushTime.TotalSeconds:F1} s ({flushed / flushTime.TotalSeconds:N0} rows/s).");
            results.Add("Durable ingest", $"TimeFusion SDK, query data set load ({main.Rows + 4 * fanOut.Rows:N0} rows over 4 pairs, one run)", "rows/s",
                [(loaded + second) / (loadFirst + loadSecond).TotalSeconds], main.Rows);
            results.Add("Flush", $"FLUSH of the first halves ({flushed:N0} rows, buffer → Parquet → Delta)", "rows/s", [flushed / flushTime.TotalSeconds], flushed);

            await BufferedRowBytes.MeasureAsync(results, silo, Project, main.ArrowBytesPerRow, bufferedRows, baselineRss, [Project, .. FanOutProjects, FanOutAll]);

            deltaFiles = Directory.EnumerateFiles(dataDir, "*.parquet", SearchOption.AllDirectories)
                .Where(f => f.Contains(Project, StringComparison.Ordinal) && !f.Contains("staging", StringComparison.Ordinal)).ToList();

            // Cold = the first run of each query after a crash restart (kill -9, so the buffered half is replayed from
            // the WAL) once the table has recovered; the OS page cache stays warm (dropping it needs root).
            var walBytes = silo.WalBytes;
            await silo.KillAsync();
            await silo.DisposeAsync();
            silo = SiloProcess.Start(dataDir, SiloSettings.NoAutoFlush(), [Project, .. FanOutProjects, FanOutAll]);
            await silo.ConnectAsync(TimeSpan.FromSeconds(120));
            var connected = silo.SinceStart.Elapsed;
            var user = await silo.ClientAsync(Caller.ForProject(Project));
            var probe = await silo.QueryUntilAnsweredAsync(Caller.ForProject(Project), "SELECT count(*) FROM otel_logs_and_spans", TimeSpan.FromMinutes(10));
            var answered = silo.SinceStart.Elapsed;
            _ = probe;
            // The fan-out tables recover too before anything is timed.
            foreach (var p in FanOutProjects.Append(FanOutAll))
                await silo.QueryUntilAnsweredAsync(Caller.ForProject(p), "SELECT count(*) FROM otel_logs_and_spans", TimeSpan.FromMinutes(10));
            var recovered = silo.SinceStart.Elapsed;
            var entries = (await Task.WhenAll(FanOutProjects.Append(FanOutAll).Append(Project)
                .Select(p => silo.Cluster.GetGrain<ITableGrain>(TableGrainKey.Format(p, OtelLogsAndSpans.TableName)).GetStatusAsync()))).Sum(s => s.RecoveredEntries);
            var restart = $"kill -9 with the query sets' buffered halves ({bufferedRows:N0} + {fanOut.Rows - (long)fanHalf * fanOut.BatchRows:N0} × 4 rows in 5 tables, {walBytes / 1e6:N0} MB of WAL files, {entries:N0} entries replayed)";
            results.Add("Recovery", restart, "first answered query s", [answered.TotalSeconds], bufferedRows);
            results.Add("Recovery", restart, "all tables answered s", [recovered.TotalSeconds], bufferedRows);
            results.Add("Recovery", restart, "WAL replay MB/s", [walBytes / 1e6 / (recovered - connected).TotalSeconds], bufferedRows);

            // TimeFusion.
            var queries = DashboardQuery.All();
            var ours = new Dictionary<string, (double Cold, List<double> Warm, long Rows)>();
            foreach (var q in queries)
                ours[q.Name] = await Timing.MeasureAsync(options.Runs, async () => (await user.QueryAllAsync(q.TimeFusion)).RowCount);

            // Fan-out: the same aggregate over 3 projects (3 grains) vs the same rows in one project (one engine).
            var fanAdmin = await silo.ClientAsync(Caller.Admin());
            const string aggregate = "SELECT resource___service___name AS service, count(*) AS n, avg(duration) AS mean, max(duration) AS longest FROM otel_logs_and_spans WHERE ";
            var fan = await Timing.MeasureAsync(options.Runs, async () => (await fanAdmin.QueryAllAsync(aggregate + "project_id IN ('f0', 'f1', 'f2') GROUP BY 1")).RowCount);
            var one = await Timing.MeasureAsync(options.Runs, async () => (await fanAdmin.QueryAllAsync(aggregate + $"project_id = '{FanOutAll}' GROUP BY 1")).RowCount);

            // DuckDB over the same Parquet: Delta's files of the flushed half, the buffered half written as Parquet.
            var bufferedParquet = Path.Combine(root, "buffered-half.parquet");
            await ParquetArrowWriter.WriteAsync(bufferedParquet, main.ReadAsync(half, (int)main.Batches));
            var files = deltaFiles.Append(bufferedParquet).ToList();
            using var duck = new DuckDBConnection("DataSource=:memory:");
            duck.Open();
            using (var cmd = duck.CreateCommand())
            {
                cmd.CommandText = $"SET threads = {Environment.ProcessorCount}; SET TimeZone = 'UTC'; CREATE VIEW otel_logs_and_spans AS SELECT * FROM read_parquet([{string.Join(", ", files.Select(SqlNames.Literal))}], union_by_name = true)";
                cmd.ExecuteNonQuery();
            }
            var theirs = new Dictionary<string, (double Cold, List<double> Warm, long Rows)>();
            foreach (var q in queries)
                theirs[q.Name] = await Timing.MeasureAsync(options.Runs, () => PeerQueries.DuckDbAsync(duck, q.DuckDb));

            // PostgreSQL over the same rows.
            var postgres = new Dictionary<string, (double Cold, List<double> Warm, long Rows)>();
            if (pg is not null)
            {
                var pgLoad = await PostgresIngest.LoadAsync(pg, main.ReadAsync(), "otel_logs_and_spans", _ => Project);
                results.Note(Section, $"PostgreSQL {pg.Version} loaded the {main.Rows:N0} rows by binary COPY into a table indexed on (project_id, timestamp) and ran ANALYZE in {pgLoad.TotalSeconds:F0} s " +
                                      $"({main.Rows / pgLoad.TotalSeconds:N0} rows/s); its queries add project_id = '{Project}' as a multi-tenant table needs; shared_buffers 2 GB, work_mem 256 MB, 2 parallel workers.");
                await using var conn = pg.Connect();
                await conn.OpenAsync();
                foreach (var q in queries)
                    postgres[q.Name] = await Timing.MeasureAsync(options.Runs, () => PeerQueries.PostgresAsync(conn, q.Postgres));
            }

            results.Note(Section, $"{main.Rows:N0} rows over one day, first half flushed to Delta ({deltaFiles.Count} Parquet files), second half ({bufferedRows:N0} rows) buffered. " +
                                  $"Warm = median of {options.Runs} runs after the first; cold = the first run: for TimeFusion the first run of that query after a kill -9 restart and WAL replay " +
                                  "(the OS page cache stays warm, dropping it needs root), for DuckDB the first run in a fresh in-memory database over the Parquet files, for PostgreSQL the first run after loading. " +
                                  "TimeFusion answers through the Orleans client SDK (gateway → table grain → result back as Arrow). 'rows' = rows returned; a mismatch is flagged.");
            foreach (var q in queries)
            {
                var (cold, warm, rows) = ours[q.Name];
                results.Add(Section, q.Name, "TimeFusion warm ms", warm, main.Rows, double.IsNaN(q.TargetMs) ? null : $"≤ {q.TargetMs:N0} ms warm",
                    double.IsNaN(q.TargetMs) ? null : Stats.Median(warm) <= q.TargetMs);
                results.Add(Section, q.Name, "TimeFusion cold ms", [cold], main.Rows);
                var d = theirs[q.Name];
                results.Add(Section, q.Name, "DuckDB/Parquet warm ms", d.Warm, main.Rows);
                results.Add(Section, q.Name, "DuckDB/Parquet cold ms", [d.Cold], main.Rows);
                results.Add(Section, q.Name, "× DuckDB", warm.Zip(d.Warm, (a, b) => a / b).ToList(), main.Rows);
                var rowsText = rows == d.Rows ? rows.ToString() : $"{rows} (DuckDB {d.Rows})";
                if (postgres.TryGetValue(q.Name, out var p))
                {
                    results.Add(Section, q.Name, "PostgreSQL warm ms", p.Warm, main.Rows);
                    results.Add(Section, q.Name, "PostgreSQL cold ms", [p.Cold], main.Rows);
                    results.Add(Section, q.Name, "× PostgreSQL", warm.Zip(p.Warm, (a, b) => a / b).ToList(), main.Rows);
                    if (p.Rows != rows) rowsText += $" (PostgreSQL {p.Rows})";
                }
                results.Add(Section, q.Name, "rows", [rows], main.Rows);
                if (rows != d.Rows || (postgres.TryGetValue(q.Name, out var pp) && pp.Rows != rows))
                    results.Note(Section, $"Row counts differ for '{q.Name}': {rowsText}.");
            }
            var subject = $"3-project fan-out aggregate ({fanOut.Rows:N0} rows split over 3 projects) vs one engine holding them";
            results.Add(Section, subject, "TimeFusion warm ms", fan.Warm, fanOut.Rows);
            results.Add(Section, subject, "TimeFusion cold ms", [fan.Cold], fanOut.Rows);
            results.Add(Section, subject, "one engine warm ms", one.Warm, fanOut.Rows);
            var ratio = fan.Warm.Zip(one.Warm, (a, b) => a / b).ToList();
            results.Add(Section, subject, "× one engine", ratio, fanOut.Rows, "≤ 1.2×", Stats.Median(ratio) <= 1.2);
            results.Add(Section, subject, "rows", [fan.Rows], fanOut.Rows);
            if (fan.Rows != one.Rows) results.Note(Section, $"Fan-out rows {fan.Rows} differ from one engine's {one.Rows}.");
            File.Delete(bufferedParquet);
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }
}
