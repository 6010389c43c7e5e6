using System.Reflection;

namespace TimeFusion.Bench.Suite;

/// <summary>
/// <c>suite [--rows 10000000] [--ingest-rows 1000000] [--runs 3] [--out docs] [--no-postgres] [--clickhouse]
/// [--recovery-wal-mb 1024] [--fanout-rows N] [--small-insert-rows 480000] [--only limits,ingest,smallinsert,queries,recovery,memory]</c>.
/// </summary>
public sealed class SuiteOptions
{
    /// <summary>Rows of the query data set (half flushed, half buffered).</summary>
    public long Rows { get; init; } = 10_000_000;

    /// <summary>Rows per ingest run (each ingest figure is the median of <see cref="Runs"/> runs of this many rows).</summary>
    public long IngestRows { get; init; } = 1_000_000;

    public int Runs { get; init; } = 3;

    /// <summary>Folder receiving BENCHMARKS.md (generated section) and benchmarks.json.</summary>
    public required string OutDirectory { get; init; }

    public bool Postgres { get; init; } = true;

    public bool ClickHouse { get; init; }

    public long RecoveryWalBytes { get; init; } = 1L << 30;

    /// <summary>Rows of the fan-out data set (split over 3 projects, and the same rows in one project).</summary>
    public long FanOutRows { get; init; } = 500_000;

    public int BatchRows { get; init; } = 8192;

    /// <summary>
    /// Rows per run of the small-INSERT part (30-row statements; at most the ingest rows): 480 K, ~4–5 s per server on
    /// 2 cores. 60 K (until session 16) was ~0.6 s, shorter than the host's own swings (docs/BENCHMARKS.md, session 16).
    /// </summary>
    public long SmallInsertRows { get; init; } = 480_000;

    /// <summary>Seconds of the writer flood against a small hard limit.</summary>
    public int FloodSeconds { get; init; } = 15;

    /// <summary>Another build's TimeFusion.Silo.dll: the recovery part then alternates it with this build on the same WAL (before/after).</summary>
    public string? RecoveryCompareDll { get; init; }

    /// <summary>Seconds of the acknowledgement-latency part's measured window at half the maximum rate.</summary>
    public int AckSeconds { get; init; } = 30;

    /// <summary>
    /// Seconds of the closed loops that find the maximum sustained rate (SDK and Flight DoPut, <c>--max-seconds</c>);
    /// issue 11 asks for the rate sustained for at least 60 s.
    /// </summary>
    public int MaxSeconds { get; init; } = 60;

    /// <summary>
    /// Whether the measured window at half the rate starts only once the silo has flushed every row the closed loop
    /// wrote (<c>--ack-settle off</c>: right after the closed loop, while its backlog is still being flushed).
    /// </summary>
    public bool AckSettle { get; init; } = true;

    /// <summary>
    /// The acknowledgement-latency part's open-loop rate in rows/s (<c>--ack-rate</c>); 0 (default) measures the maximum
    /// sustained rate first and runs at half of it.
    /// </summary>
    public double AckRate { get; init; }

    public required IReadOnlySet<string> Parts { get; init; }

    /// <summary>Pair counts for the TimeFusion ingest runs (null: 1, 16 and 256).</summary>
    public int[]? PairCounts { get; init; }

    public bool Includes(string part) => Parts.Contains(part);

    public static readonly string[] AllParts = ["limits", "ingest", "smallinsert", "queries", "recovery", "acklatency", "memory"];

    public static string RepoRoot => typeof(SuiteOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "RepoRoot").Value!;

    public static SuiteOptions Parse(BenchArgs args)
    {
        var rows = args.Long("rows", 10_000_000);
        var only = args.Get("only");
        return new SuiteOptions
        {
            Rows = rows,
            IngestRows = args.Long("ingest-rows", Math.Min(rows, 1_000_000)),
            Runs = Math.Max(1, args.Int("runs", 3)),
            OutDirectory = Path.GetFullPath(args.Get("out") ?? Path.Combine(RepoRoot, "docs")),
            Postgres = !args.Has("no-postgres"),
            ClickHouse = args.Has("clickhouse"),
            RecoveryWalBytes = args.Long("recovery-wal-mb", 1024) << 20,
            FanOutRows = args.Long("fanout-rows", Math.Max(30_000, Math.Min(rows / 20, 500_000))),
            BatchRows = args.Int("batch-rows", 8192),
            SmallInsertRows = args.Long("small-insert-rows", 480_000),
            FloodSeconds = args.Int("flood-seconds", 15),
            AckSeconds = args.Int("ack-seconds", 30),
            MaxSeconds = args.Int("max-seconds", 60),
            AckSettle = !string.Equals(args.Get("ack-settle"), "off", StringComparison.OrdinalIgnoreCase),
            AckRate = args.Long("ack-rate", 0),
            RecoveryCompareDll = args.Get("recovery-compare"),
            PairCounts = args.Get("pairs")?.Split(',').Select(int.Parse).ToArray(),
            Parts = only is null
                ? new HashSet<string>(AllParts)
                : new HashSet<string>(only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase),
        };
    }
}
