using TimeFusion.DuckDb;

namespace TimeFusion.Buffer;

/// <summary>Reading: pinned snapshots of the rows above an LSN, and the reader counts that keep generations attached.</summary>
public sealed partial class BufferTable
{
    /// <summary>
    /// Opens a pinned snapshot of the rows with LSN above <paramref name="aboveLsn"/> (the last LSN flushed, W).
    /// The snapshot is fixed when this returns.
    /// </summary>
    public BufferSnapshot OpenSnapshot(long aboveLsn) => OpenSnapshotChoosing(() => aboveLsn);

    /// <summary>
    /// Opens a pinned snapshot of the rows with LSN above the value <paramref name="aboveLsnUnderLock"/> returns; it is
    /// called under the generation lock, so whatever state it reads is consistent with the buffer's commits (a DML's
    /// <c>onCommitted</c> callback runs under the same lock).
    /// </summary>
    internal BufferSnapshot OpenSnapshotChoosing(Func<long> aboveLsnUnderLock)
    {
        ThrowIfDisposed();
        DrainTailForRead(); // every row acknowledged before the snapshot was asked for is in DuckDB
        var aboveLsn = -1L;
        var pool = _db.Connections;
        var connection = pool.Rent();
        var read = new List<BufferGeneration>();
        try
        {
            var parts = new List<string>();
            // Under the generation lock no DML or delete commits, no generation is dropped, and every append that
            // could commit before the pins below has already widened its generation's bounds.
            lock (_gate)
            {
                aboveLsn = aboveLsnUnderLock();
                DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
                foreach (var g in _generations)
                {
                    if (g.MaxLsn <= aboveLsn)
                        continue; // empty, or every row already flushed
                    parts.Add(g.MinLsn <= aboveLsn
                        ? $"SELECT * EXCLUDE ({QuotedLsn}) FROM {g.QuotedTable} WHERE {QuotedLsn} > {aboveLsn}"
                        : $"SELECT * EXCLUDE ({QuotedLsn}) FROM {g.QuotedTable}");
                    read.Add(g);
                }
                if (read.Count == 0)
                {
                    var active = _generations[^1];
                    parts.Add($"SELECT * EXCLUDE ({QuotedLsn}) FROM {active.QuotedTable} WHERE false");
                    read.Add(active);
                }
                // DuckDB starts a transaction's snapshot of a database at its first statement that touches it.
                foreach (var g in read)
                {
                    DuckDbCommands.Execute(connection, $"SELECT 1 FROM {g.QuotedTable} LIMIT 0");
                    g.Readers++;
                }
            }
            return new BufferSnapshot(pool, connection, parts.Select(p => "(" + p + ")").ToList(), aboveLsn, () => ReleaseReaders(read));
        }
        catch
        {
            ReleaseReaders(read);
            pool.Return(connection, DuckDbCommands.TryRollback(connection));
            throw;
        }
    }

    private void ReleaseReaders(List<BufferGeneration> generations)
    {
        var detach = new List<BufferGeneration>();
        lock (_gate)
        {
            foreach (var g in generations)
            {
                if (g.Readers > 0)
                    g.Readers--;
                if (g.Dropped && g.Readers == 0 && !g.Detached)
                {
                    g.Detached = true;
                    detach.Add(g);
                }
            }
        }
        if (detach.Count > 0)
            DetachNow(detach, background: true);
    }
}
