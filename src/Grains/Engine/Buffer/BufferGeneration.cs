using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// One generation of a buffer table: an attached in-memory DuckDB database holding a contiguous LSN range of
/// the table's rows. The newest generation takes appends; older ones are sealed (read-only except for DML
/// and deletes), compressed by a CHECKPOINT that no append waits for, and DETACHed — freeing their memory at
/// once — when a flush has made all their rows durable and no snapshot still reads them.
/// Bounds are kept conservative: widened before an append commits and narrowed only after a delete commits,
/// so a snapshot deciding from them never leaves out a row it can see.
/// All mutable state is guarded by the owning table's generation lock.
/// </summary>
internal sealed class BufferGeneration
{
    public BufferGeneration(string databaseName, long sequence)
    {
        DatabaseName = databaseName;
        Sequence = sequence;
        QuotedDatabase = SqlNames.Quote(databaseName);
        QuotedTable = $"{QuotedDatabase}.main.{SqlNames.Quote("rows")}";
    }

    public string DatabaseName { get; }

    public long Sequence { get; }

    public string QuotedDatabase { get; }

    public string QuotedTable { get; }

    /// <summary>Lowest LSN the generation may hold (long.MaxValue while empty).</summary>
    public long MinLsn { get; set; } = long.MaxValue;

    /// <summary>Highest LSN the generation may hold (-1 while empty).</summary>
    public long MaxLsn { get; set; } = -1;

    /// <summary>Rows committed to the generation (appended minus deleted).</summary>
    public long Rows { get; set; }

    /// <summary>No more appends go here.</summary>
    public bool Sealed { get; set; }

    /// <summary>A CHECKPOINT compressed it after its last change.</summary>
    public bool Compressed { get; set; }

    /// <summary>Removed from the table; detached once <see cref="Readers"/> is zero.</summary>
    public bool Dropped { get; set; }

    /// <summary>Already detached.</summary>
    public bool Detached { get; set; }

    /// <summary>Open snapshots that read this generation.</summary>
    public int Readers { get; set; }

    public bool IsEmpty => MaxLsn < 0;

    public void Widen(long lsn)
    {
        if (lsn < MinLsn)
            MinLsn = lsn;
        if (lsn > MaxLsn)
            MaxLsn = lsn;
    }
}
