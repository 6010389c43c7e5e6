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
        ThrowIfTailFaulted(); // rows the WAL holds are missing from the buffer: reading it would hide them
        var aboveLsn = -1L;
        var pool = _db.Connections;
        var connection = pool.Rent();
        var read = new List<BufferGeneration>();
        ArrowScanSource? tailScan = null;
        try
        {
            var parts = new List<string>();
            // Under the generation lock no DML or delete commits, no generation is dropped, and every append that
            // could commit before the pins below has already widened its generation's bounds.
            lock (_gate)
            {
                aboveLsn = aboveLsnUnderLock();
                // The tail first: its batches are newer than every generation row, and a move into DuckDB after this
                // line lands at or above tailStart, which the generations are read below.
                var (tail, tailStart, _) = TakeTail(aboveLsn, long.MaxValue);
                DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
                foreach (var g in _generations)
                {
                    if (g.MaxLsn <= aboveLsn || g.MinLsn >= tailStart)
                        continue; // empty, every row already flushed, or every row read from the tail
                    var conditions = new List<string>(2);
                    if (g.MinLsn <= aboveLsn)
                        conditions.Add($"{QuotedLsn} > {aboveLsn}");
                    if (g.MaxLsn >= tailStart)
                        conditions.Add($"{QuotedLsn} < {tailStart}");
                    parts.Add($"SELECT * EXCLUDE ({QuotedLsn}) FROM {g.QuotedTable}" + (conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions)));
                    read.Add(g);
                }
                if (tail.Count > 0)
                {
                    tailScan = RegisterScan(tail);
                    parts.Add($"SELECT * FROM {tailScan.Sql}");
                }
                if (parts.Count == 0)
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
            var scan = tailScan;
            return new BufferSnapshot(pool, connection, parts.Select(p => "(" + p + ")").ToList(), aboveLsn, () =>
            {
                scan?.Dispose();
                ReleaseReaders(read);
            });
        }
        catch
        {
            tailScan?.Dispose();
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
