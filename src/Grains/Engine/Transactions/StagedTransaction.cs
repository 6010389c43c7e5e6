using System.Diagnostics;
using TimeFusion.Buffer;
using TimeFusion.Delta.Actions;

namespace TimeFusion.Transactions;

/// <summary>
/// One open write transaction of one table (see <c>Transactions/README.md</c>): its rows are validated as they are
/// staged, collected in a private buffer table (never read by queries) and, whenever that holds more than the spill
/// threshold, written to Parquet data files under the Delta table root that no Delta version references yet. The
/// commit is one Delta commit of their <c>add</c>s; until then nothing of the transaction is visible, and a crash
/// leaves only unreferenced files that VACUUM removes (abort deletes them at once).
/// </summary>
internal sealed class StagedTransaction(Guid id, BufferTable staging)
{
    private long _lastActivity = Stopwatch.GetTimestamp();

    /// <summary>The caller-chosen transaction id.</summary>
    public Guid Id { get; } = id;

    /// <summary>The private buffer table rows wait in until they are spilled to Parquet (a fresh one after each spill).</summary>
    public BufferTable Staging { get; set; } = staging;

    /// <summary>Serializes the transaction's own steps (stage, spill, commit, abort).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The <c>add</c> actions of the files spilled so far (uploaded, referenced by no Delta version yet).</summary>
    public List<AddFile> Spilled { get; } = [];

    /// <summary>How many staging tables the transaction has had (each one's id ends in its number).</summary>
    public int Generation { get; set; }

    /// <summary>The spill of a full staging table running beside the next chunks, if any (at most one).</summary>
    public Task? Spilling { get; set; }

    /// <summary>Cancels a running spill when the transaction is aborted.</summary>
    public CancellationTokenSource SpillCancellation { get; } = new();

    /// <summary>Each staged chunk gets the next sequence number as its buffer "LSN" (the staging table's own order).</summary>
    public long Sequence { get; set; }

    /// <summary>Rows staged so far.</summary>
    public long Rows { get; set; }

    /// <summary>Set once the transaction committed or was aborted: later steps find it closed.</summary>
    public bool Closed { get; set; }

    /// <summary>How long since the last step.</summary>
    public TimeSpan Idle => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastActivity));

    /// <summary>Marks activity now.</summary>
    public void Touch() => Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());
}
