namespace TimeFusion.Query.Execution;

/// <summary>Settings of the query executors; silo-wide.</summary>
public sealed class ExecutionOptions
{
    /// <summary>
    /// DuckDB hands results out in chunks of 2,048 rows; consecutive chunks are joined into batches of up to this many
    /// rows, so that results cross silos and enter the merge as few large batches. 0 keeps DuckDB's chunks.
    /// </summary>
    public int TargetBatchRows { get; set; } = 65_536;

    /// <summary>
    /// <c>ORDER BY timestamp DESC LIMIT n</c>: the first attempt reads the newest files that hold at least
    /// <c>n × this</c> rows (by their statistics); each further attempt multiplies the row target by
    /// <see cref="NewestFirstGrowth"/>.
    /// </summary>
    public int NewestFirstInitialFactor { get; set; } = 2;

    /// <summary>How much the row target of each newest-first attempt grows over the last one.</summary>
    public int NewestFirstGrowth { get; set; } = 16;

    /// <summary>Attempts over a newest-first subset of files before the last one reads every candidate file.</summary>
    public int NewestFirstMaxAttempts { get; set; } = 2;

    /// <summary>How many grain calls a <see cref="PlanRunner"/> has in flight at once.</summary>
    public int MaxConcurrentGrainCalls { get; set; } = 64;

    /// <summary>
    /// Statements one user may have running at once on a silo (queries and writes through the PostgreSQL and Flight
    /// endpoints), so that one tenant cannot occupy every core. 0: no limit.
    /// </summary>
    public int MaxConcurrentStatementsPerUser { get; set; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>How long a statement over <see cref="MaxConcurrentStatementsPerUser"/> waits for a slot before it fails with 53400.</summary>
    public TimeSpan StatementQueueTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most private memory the whole server process may hold (its data segment limit, <c>RLIMIT_DATA</c>): an
    /// allocation past it fails where it is made — DuckDB's string vectors, which its own <c>memory_limit</c> does not
    /// count, included — and the statement that made it fails with 53200 while the server keeps running; what it held is
    /// given back to the system at once (DuckDB's allocator runs with <c>retain:false</c> and is purged), so the next
    /// statements answer. Must leave room above <c>TimeFusion:Buffer:MemoryLimitBytes</c>. -1 (default): derived from
    /// the memory the runtime sees (<see cref="DefaultProcessMemoryLimit"/>); 0: no limit.
    /// </summary>
    public long ProcessMemoryLimitBytes { get; set; } = -1;

    /// <summary>The configuration key of <see cref="ProcessMemoryLimitBytes"/>.</summary>
    public const string ProcessMemorySetting = "TimeFusion:Execution:ProcessMemoryLimitBytes";

    /// <summary>
    /// The default of <see cref="ProcessMemoryLimitBytes"/> on a machine or container with <paramref name="availableBytes"/>
    /// of memory (the cgroup's memory limit in a container, else physical memory, as the .NET runtime reports it):
    /// that minus an eighth of it, at least 512 MiB, left for what the cap does not count and the rest of the machine
    /// (code, page cache); never below 256 MiB. 0 (no limit) when the memory is unknown.
    /// </summary>
    public static long DefaultProcessMemoryLimit(long availableBytes)
    {
        if (availableBytes <= 0) return 0;
        var headroom = Math.Max(availableBytes / 8, 512L << 20);
        return Math.Max(availableBytes - headroom, 256L << 20);
    }

    /// <summary>The cap to apply: <see cref="ProcessMemoryLimitBytes"/>, or its default for <paramref name="availableBytes"/> when -1 (0: none).</summary>
    public long EffectiveProcessMemoryLimit(long availableBytes) =>
        ProcessMemoryLimitBytes == -1 ? DefaultProcessMemoryLimit(availableBytes) : ProcessMemoryLimitBytes;

    /// <summary>
    /// The most bytes (Arrow) of its result one statement may hold in memory at once: the whole result where it is
    /// gathered (a merge at the gateway, a newest-first read, a result that is not streamed), one batch where the result
    /// streams to the client. Past it the statement fails with 53200 and what it read is freed. A streamed result as a
    /// whole is not capped by it. 0: no limit.
    /// </summary>
    public long MaxResultBytes { get; set; } = 1L << 30;

    /// <summary>
    /// A streamed result is sent in batches of up to <see cref="TargetBatchRows"/> rows or about this many bytes, whichever
    /// comes first: what one streaming statement holds in a table grain at a time. 0: rows alone decide.
    /// </summary>
    public long StreamBatchBytes { get; set; } = 4L << 20;

    /// <summary>
    /// The most memory one statement's results may hold at once wherever they are held outside DuckDB: the partial
    /// results of every grain gathered at the gateway (partial aggregates, shipped rows, newest-first top rows) and the
    /// merge's result, the batches a door's k-way merge holds (one per grain; each grain's streamed batches are sized so
    /// that the grains' batches and their one-ahead prefetch fit in half of it), and a grain's gathered result. Past it
    /// the statement fails with 53200 naming <c>TimeFusion:Execution:StatementMemoryBytes</c> and everything it held is
    /// freed (the grains' DuckDB results and snapshots, its statement slot). DuckDB's working memory (sorts, hash
    /// tables) is bounded by the database's <c>memory_limit</c> (<c>TimeFusion:Buffer:MemoryLimitBytes</c>) instead.
    /// 0: no limit.
    /// </summary>
    public long StatementMemoryBytes { get; set; } = 1L << 30;

    /// <summary>
    /// <c>ORDER BY timestamp DESC LIMIT n</c> over several grains with <c>n</c> (plus OFFSET) up to this many rows is
    /// gathered at the gateway (each grain reads its newest files first and returns its top <c>n</c>; counted against
    /// <see cref="StatementMemoryBytes"/>); a larger <c>n</c> streams through the door's k-way merge, which holds a batch
    /// per grain whatever <c>n</c> is. 0: newest-first over several grains always streams.
    /// </summary>
    public long NewestFirstGatherRows { get; set; } = 10_000;

    /// <summary>The configuration key of <see cref="StatementMemoryBytes"/>, named in the errors it causes.</summary>
    public const string StatementMemorySetting = "TimeFusion:Execution:StatementMemoryBytes";

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(TargetBatchRows);
        ArgumentOutOfRangeException.ThrowIfLessThan(NewestFirstInitialFactor, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(NewestFirstGrowth, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(NewestFirstMaxAttempts);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrentGrainCalls, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConcurrentStatementsPerUser);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxResultBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(StreamBatchBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(StatementMemoryBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(NewestFirstGatherRows);
        ArgumentOutOfRangeException.ThrowIfLessThan(StatementQueueTimeout, TimeSpan.Zero);
        if (ProcessMemoryLimitBytes is < -1 or (> 0 and < 256L << 20))
            throw new ArgumentOutOfRangeException(nameof(ProcessMemoryLimitBytes), ProcessMemoryLimitBytes, "must be -1 (derived from the machine's memory), 0 (no limit) or at least 256 MiB");
    }
}
