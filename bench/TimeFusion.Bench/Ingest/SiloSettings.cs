namespace TimeFusion.Bench.Ingest;

/// <summary>Silo settings the suite uses (keys under <c>TimeFusion:</c>).</summary>
public static class SiloSettings
{
    /// <summary>
    /// Durable ingest with flushing running: WAL fsync per commit, flush every 5 s or 256 K rows per table,
    /// a buffer budget that fits the machine.
    /// </summary>
    public static Dictionary<string, string> Ingest() => new()
    {
        ["Wal:SyncMode"] = "PerCommit",
        ["Flush:MaxBufferAge"] = "00:00:05",
        ["Flush:MaxBufferedRows"] = "262144",
        ["Flush:CheckInterval"] = "00:00:00.500",
        ["Buffer:MemoryLimitBytes"] = (8L << 30).ToString(),
        ["Buffer:SoftLimitBytes"] = (3L << 30).ToString(),
        ["Buffer:HardLimitBytes"] = (6L << 30).ToString(),
    };

    /// <summary>
    /// A burst that fits the buffer, flushes deferred (issue 11's burst target): <see cref="Ingest"/> with the engine's
    /// default age (60 s), a row trigger of the tail's size (1,048,576) and 2 GiB a table (under the 3 GiB soft limit), so a 1 M-row burst into one table flushes
    /// neither by age nor by rows while it runs, however long it takes on a loaded host (with the 5-s age of
    /// <see cref="Ingest"/> a burst slower than 5 s flushed every pair: docs/BENCHMARKS.md, session 16).
    /// </summary>
    public static Dictionary<string, string> Burst()
    {
        var settings = Ingest();
        settings["Flush:MaxBufferAge"] = "00:01:00";
        settings["Flush:MaxBufferedRows"] = "1048576";
        settings["Flush:MaxBufferedBytes"] = (2L << 30).ToString();
        return settings;
    }

    /// <summary>Nothing flushes unless asked (explicit FLUSH), so rows stay buffered and in the WAL.</summary>
    public static Dictionary<string, string> NoAutoFlush() => new()
    {
        ["Wal:SyncMode"] = "PerCommit",
        ["Flush:MaxBufferAge"] = "1.00:00:00",
        ["Flush:MaxBufferedRows"] = long.MaxValue.ToString(),
        ["Flush:MaxBufferedBytes"] = long.MaxValue.ToString(),
        ["Buffer:MemoryLimitBytes"] = (12L << 30).ToString(),
        ["Buffer:SoftLimitBytes"] = (10L << 30).ToString(),
        ["Buffer:HardLimitBytes"] = (11L << 30).ToString(),
    };
}
