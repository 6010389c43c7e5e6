namespace TimeFusion.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/TimeFusion.Bench -- &lt;benchmark&gt; [options]</c>.
/// One file per benchmark; register it in <see cref="Benchmarks"/>.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, (string Description, Func<string[], Task<int>> Run)> Benchmarks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["cluster"] = ("ingest rows/s and dashboard queries over Npgsql: 1 silo vs 3 silos in cluster mode on one Azurite (same cores: the cluster's overhead)", Cluster.ClusterBenchmark.RunAsync),
        ["failover"] = ("SIGKILL of a silo hosting table grains among 3 in cluster mode: seconds until it is seen dead and until its projects are writable again, default vs tuned membership settings", Cluster.FailoverBenchmark.RunAsync),
        ["bigcopy"] = ("psql \\copy of a ≥ 1 GiB CSV (3 projects, admin): TimeFusion's streamed COPY vs PostgreSQL 15 in the same run, rows/s and the silo's peak RSS", Ingest.BigCopyBenchmark.RunAsync),
        ["bigresult"] = ("a ≥ 1 GB SELECT result read over Npgsql from one silo: time to first row, total time, the silo's peak and after RSS; with a second silo build given (before), both side by side", Queries.BigResultBenchmark.RunAsync),
        ["statementmemory"] = ("newest-first, a sorted merge and an aggregate over 16 projects of wide rows, unbounded vs StatementMemoryBytes 64 MiB: first row, total, the silo's peak RSS per statement", Queries.StatementMemoryBenchmark.RunAsync),
        ["buffer"] = ("DuckDB write buffer: append, latency under flush, snapshot queries, Parquet export, memory", BufferBenchmark.RunAsync),
        ["maintenance"] = ("OPTIMIZE after 1,000 minute-sized flushes: files, bytes, dashboard queries vs one flush; OPTIMIZE rows/s; ingest while it runs", MaintenanceBenchmark.RunAsync),
        ["nullcols"] = ("dashboard queries over 1,000 small flushed files written without the columns null in all their rows (Buffer:OmitNullColumns) vs with every column, alternately", Queries.NullColumnsQueryBenchmark.RunAsync),
        ["otlp"] = ("spans/s and log records/s over OTLP/HTTP protobuf and OTLP/gRPC vs Arrow Flight DoPut into one silo", Otlp.OtlpBenchmark.RunAsync),
        ["query"] = ("queries over rows split between buffer and Delta vs DuckDB over the same Parquet", QueryBenchmark.RunAsync),
        ["suite"] = ("TimeFusion vs DuckDB and PostgreSQL on the same rows: limits, ingest, queries, recovery, memory → docs/BENCHMARKS.md + benchmarks.json", Suite.SuiteCommand.RunAsync),
        ["doputab"] = ("Flight DoPut burst (the suite's ingest runs) alternating silo builds and settings: --variants name=dll[;Key=Value…],… --pairs 16 --rounds 2 --rows 500000 [--doors doput,sdk] [--depths 1,2] [--writers library,timefusion]", Ingest.DoPutAb.RunAsync),
        ["writepath"] = ("CPU time per row of each write path (SDK, DoPut, COPY CSV, 30-row INSERTs) over a window, optionally traced with dotnet-trace", Ingest.WritePathProfile.RunAsync),
        ["replay"] = ("WAL replay in process: N table engines reopen side by side over the same WAL of otel batches, MB/s and CPU seconds (no silo start-up)", Recovery.ReplayBenchmark.RunAsync),
        ["flushwriter"] = ("TimeFusion's flush writer alone (TailParquetWriter) on the suite's otel rows, variants alternated: CPU µs/row, rows/s, B/row (--variants current,array-stats,… --rounds 5 --rows 1000000; --profile-seconds N loops the first)", Limits.FlushWriterBenchmark.RunAsync),
        ["validate"] = ("the write path's validation step alone (BatchValidator.Validate) on full-width 8 K-row and 30-row batches, CPU µs per batch and row", Ingest.ValidationProfile.RunAsync),
        ["ackfloor"] = ("the acknowledgement floor: WAL-sized appends + fsync on an open-loop schedule, alone, beside Parquet-sized writes, beside an export's CPU load; append+fsync vs preallocated segments + fdatasync", Wal.AckFloorBenchmark.RunAsync),
        ["walprep"] = ("the Direct WAL's ack latency with its preparation (zero-fill ahead, spare segment) on the writer loop (session 15) or in the background: --tables 4 --rate 24 --entry-bytes 5400000 --seconds 20 --rounds 2 --modes inline,background", Wal.WalPrepBenchmark.RunAsync),
        ["wal"] = ("write-ahead log: append rate per sync mode and concurrency, reopen and replay", Wal.WalBenchmark.RunAsync),
    };

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || !Benchmarks.TryGetValue(args[0], out var benchmark))
        {
            Console.Error.WriteLine("usage: TimeFusion.Bench <benchmark> [options]");
            foreach (var (name, (description, _)) in Benchmarks)
                Console.Error.WriteLine($"  {name,-10} {description}");
            return args.Length == 0 ? 0 : 2;
        }
        return await benchmark.Run(args[1..]);
    }
}
