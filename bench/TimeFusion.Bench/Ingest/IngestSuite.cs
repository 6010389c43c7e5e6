using Apache.Arrow;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// Durable ingest of the same rows: TimeFusion (SDK, and COPY through its PostgreSQL endpoint) for 1, 16 and 256
/// (project, table) pairs, DuckDB's appender and PostgreSQL's binary COPY; rows/s, MB/s, acknowledgement latency,
/// peak memory, and TimeFusion's ratio to each peer.
/// </summary>
public static class IngestSuite
{
    public const string Section = "Durable ingest";
    private static readonly int[] Pairs = [1, 16, 256];
    private static readonly FlightPutWriter[] LibraryFirst = [FlightPutWriter.Library, FlightPutWriter.TimeFusion], OursFirst = [FlightPutWriter.TimeFusion, FlightPutWriter.Library];

    /// <summary>Which pair counts to run (all by default; <c>--pairs 256</c> for one).</summary>
    public static int[] Selected(SuiteOptions options) => options.PairCounts ?? Pairs;

    public static async Task RunAsync(SuiteResults results, SuiteOptions options, Dataset dataset, IReadOnlyList<RecordBatch> batches, PostgresPeer? pg, string root)
    {
        var rows = dataset.Rows;
        results.Note(Section, $"{rows:N0} rows per run ({dataset.ArrowBytesPerRow:N0} B/row of Arrow, {options.BatchRows:N0}-row batches), {options.Runs} runs each; MB/s counts Arrow bytes. " +
                              "Acknowledged = fsynced: TimeFusion WAL SyncMode PerCommit, PostgreSQL fsync=on + synchronous_commit=on, DuckDB commit (WAL fsync).");
        results.Note(Section, $"TimeFusion SDK and Flight DoPut: a burst that fits the buffer, flushes deferred (SiloSettings.Burst: 60-s age, 1,048,576 rows or 2 GiB per table; each pair's warm-up row flushed before the clock starts); " +
                              $"COPY: flushing running (every 5 s or 256 K rows per table). A fresh silo process per run; batches spread round-robin over the pairs " +
                              $"(projects p0…, table otel_logs_and_spans) by {TimeFusionSdkIngest.Writers(1)} concurrent writers for 1 pair, one per pair up to 32 otherwise; each pair's grain is activated before the clock starts. " +
                              "Latency = one InsertAsync call (one batch). Peak memory = the silo's VmHWM. " +
                              "Flight DoPut: the same silo settings, pairs and writers, one stream per writer and pair, latency = one batch written until its PutResult; " +
                              "run with Apache.Arrow.Flight's writer (an ordinary .NET Flight client) and with timefusion's own (FlightPutCall: FlightData encoded straight into gRPC's buffer), alternately.");
        results.Note(Section, $"COPY: binary COPY statements of up to {TimeFusionCopyIngest.StatementBatches} batches through Npgsql, one user per pair bound to its project, " +
                              $"{TimeFusionCopyIngest.Writers(1)} connections for 1 pair, one per pair up to 16; latency = one COPY statement. PostgreSQL: the same statements on {PostgresIngest.Writers} connections " +
                              "into a table indexed on (project_id, timestamp); its peak memory is not taken (shared buffers are shared by its processes). " +
                              "DuckDB: appender row by row into a file-backed database, one appender (= one commit) per batch, one writer; peak memory = the bench process's resident peak above its start.");

        var sdk = new Dictionary<int, List<IngestRun>>();
        foreach (var pairs in Selected(options))
        {
            sdk[pairs] = [];
            for (var run = 0; run < options.Runs; run++)
                sdk[pairs].Add(await TimeFusionSdkIngest.RunAsync(batches, dataset.ArrowBytes, pairs, root));
            Report(results, $"TimeFusion SDK, {Plural(pairs)}", sdk[pairs], rows, target: "≥ 1 M rows/s (durable, flushes deferred)");
        }
        // DoPut twice: through Apache.Arrow.Flight's writer (what an ordinary .NET Flight client gets) and through the
        // command line's own writer (FlightPutCall); runs alternate, and which goes first alternates too (the first DoPut
        // run of the process also pays the JIT of the gRPC client both use).
        var doPut = new Dictionary<int, List<IngestRun>>();
        var doPutOurs = new Dictionary<int, List<IngestRun>>();
        var turn = 0;
        foreach (var pairs in Selected(options))
        {
            doPut[pairs] = [];
            doPutOurs[pairs] = [];
            for (var run = 0; run < options.Runs; run++, turn++)
            {
                foreach (var writer in turn % 2 == 0 ? LibraryFirst : OursFirst)
                    (writer == FlightPutWriter.Library ? doPut : doPutOurs)[pairs].Add(await TimeFusionDoPutIngest.RunAsync(batches, dataset.ArrowBytes, pairs, root, writer: writer));
            }
            Report(results, $"TimeFusion Flight DoPut, {Plural(pairs)}", doPut[pairs], rows, target: null);
            Report(results, $"TimeFusion Flight DoPut (timefusion's writer), {Plural(pairs)}", doPutOurs[pairs], rows, target: null);
        }
        foreach (var pairs in Selected(options))
        {
            try
            {
                var copy = new List<IngestRun>();
                for (var run = 0; run < options.Runs; run++)
                    copy.Add(await TimeFusionCopyIngest.RunAsync(batches, dataset.ArrowBytes, pairs, root));
                Report(results, $"TimeFusion COPY (PostgreSQL wire), {Plural(pairs)}", copy, rows, target: null);
            }
            catch (Exception e)
            {
                results.Missing.Add($"TimeFusion COPY through the PostgreSQL endpoint, {Plural(pairs)}: failed ({e.GetType().Name}: {First(e.Message)})");
                Console.Error.WriteLine(e);
            }
        }
        var duck = new List<IngestRun>();
        for (var run = 0; run < options.Runs; run++)
            duck.Add(await DuckDbIngest.RunAsync(batches, dataset.ArrowBytes, root, "p-bench"));
        Report(results, "DuckDB appender, row by row, file-backed", duck, rows, target: null);
        List<IngestRun>? postgres = null;
        if (pg is not null)
        {
            postgres = [];
            for (var run = 0; run < options.Runs; run++)
                postgres.Add(await PostgresIngest.RunAsync(pg, batches, dataset.ArrowBytes, "ingest_runs", "p-bench"));
            await pg.ExecuteAsync("DROP TABLE ingest_runs");
            Report(results, $"PostgreSQL {pg.Version} binary COPY, indexed", postgres, rows, target: null);
        }
        foreach (var pairs in Selected(options))
        {
            var ours = sdk[pairs];
            results.Add(Section, $"TimeFusion SDK, {Plural(pairs)}", "× DuckDB", Ratios(ours, duck), rows);
            if (postgres is not null) results.Add(Section, $"TimeFusion SDK, {Plural(pairs)}", "× PostgreSQL", Ratios(ours, postgres), rows);
            if (postgres is not null) results.Add(Section, $"TimeFusion Flight DoPut, {Plural(pairs)}", "× PostgreSQL", Ratios(doPut[pairs], postgres), rows);
            if (postgres is not null) results.Add(Section, $"TimeFusion Flight DoPut (timefusion's writer), {Plural(pairs)}", "× PostgreSQL", Ratios(doPutOurs[pairs], postgres), rows);
        }
    }

    private static string Plural(int pairs) => pairs == 1 ? "1 pair" : $"{pairs} pairs";

    private static string First(string message) => message.Split('\n')[0];

    private static List<double> Ratios(List<IngestRun> ours, List<IngestRun> theirs) =>
        ours.Zip(theirs, (a, b) => a.RowsPerSecond / b.RowsPerSecond).ToList();

    private static void Report(SuiteResults results, string subject, List<IngestRun> runs, long rows, string? target)
    {
        var rate = runs.Select(r => r.RowsPerSecond).ToList();
        results.Add(Section, subject, "rows/s", rate, rows, target, target is null ? null : Stats.Median(rate) >= 1_000_000);
        results.Add(Section, subject, "MB/s", runs.Select(r => r.MegabytesPerSecond).ToList(), rows);
        results.Add(Section, subject, "ack p50 ms", runs.Select(r => r.P50Ms).ToList(), rows);
        results.Add(Section, subject, "ack p99 ms", runs.Select(r => r.P99Ms).ToList(), rows);
        results.Add(Section, subject, "peak memory MiB", runs.Select(r => r.PeakMemoryBytes > 0 ? r.PeakMemoryBytes / 1048576.0 : double.NaN).ToList(), rows);
    }
}
