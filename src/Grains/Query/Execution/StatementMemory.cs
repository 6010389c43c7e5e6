using TimeFusion.Wire;

namespace TimeFusion.Query.Execution;

/// <summary>
/// What one statement's results hold in memory outside DuckDB, counted against
/// <see cref="ExecutionOptions.StatementMemoryBytes"/> where the memory is taken (a grain's gathered result arriving
/// at the gateway, the merge's result). Thread-safe: the statement's grain calls charge it concurrently. A charge past
/// the limit fails with 53200 naming the setting and is not kept, so the caller frees what it holds and fails.
/// </summary>
public sealed class StatementMemory
{
    private readonly long _limit;
    private long _held;

    /// <summary>Creates a budget of <paramref name="limitBytes"/> (0: none).</summary>
    public StatementMemory(long limitBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limitBytes);
        _limit = limitBytes;
    }

    /// <summary>Bytes charged and not released.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Bytes still free, or <see cref="long.MaxValue"/> without a limit.</summary>
    public long Remaining => _limit == 0 ? long.MaxValue : Math.Max(0, _limit - Held);

    /// <summary>Counts <paramref name="bytes"/> that <paramref name="what"/> now holds.</summary>
    /// <exception cref="QueryExecutionException">53200: the statement would hold more than its limit (nothing is charged).</exception>
    public void Charge(long bytes, string what)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var now = Interlocked.Add(ref _held, bytes);
        if (_limit > 0 && now > _limit)
        {
            Interlocked.Add(ref _held, -bytes);
            throw OverLimit(_limit, what);
        }
    }

    /// <summary>Gives back bytes charged before.</summary>
    public void Release(long bytes) => Interlocked.Add(ref _held, -bytes);

    /// <summary>
    /// The cap for a result read now: <paramref name="maxResultBytes"/> (MaxResultBytes) or what is left of this budget,
    /// whichever is smaller, with the setting that decides it (0: no cap).
    /// </summary>
    public (long Bytes, string Setting) ResultCap(long maxResultBytes)
    {
        var left = Remaining;
        if (left == long.MaxValue || (maxResultBytes > 0 && maxResultBytes <= left)) return (maxResultBytes, MaxResultSetting);
        return (Math.Max(1, left), ExecutionOptions.StatementMemorySetting);
    }

    private const string MaxResultSetting = "TimeFusion:Execution:MaxResultBytes";

    /// <summary>The error of a statement over its limit of <paramref name="limitBytes"/>.</summary>
    public static QueryExecutionException OverLimit(long limitBytes, string what) => new(SqlState.OutOfMemory,
        $"out of memory: the statement would hold more than {limitBytes} bytes of results ({what}); raise {ExecutionOptions.StatementMemorySetting} or narrow the statement");
}
