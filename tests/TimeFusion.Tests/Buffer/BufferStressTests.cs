using TimeFusion.Buffer;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

public class BufferStressTests
{
    /// <summary>
    /// Appends, exports, deletes, DML, background merges/compressions and snapshot readers all at once. Every
    /// snapshot must see whole batches only, each LSN above its W exactly once, and a gap-free LSN range.
    /// </summary>
    [Fact]
    public async Task Snapshots_stay_consistent_while_everything_runs_concurrently()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open(o => o.GenerationRows = 1_500);
        await using var table = await BufferTable.CreateAsync(db, new TableId("p", "stress"), BufferTestDatabase.SmallSchema, default);
        static int SizeOf(long lsn) => 200 + (int)(lsn * 37 % 500);
        using var stop = new CancellationTokenSource();
        long snapshotsSoFar = 0;
        // At least 4 s of everything at once, and on until a background compression has run among it and the readers
        // have checked enough snapshots; 60 s at most. DuckDB defers a CHECKPOINT while a reader holds old row versions
        // of the UPDATEs, and on a loaded machine the two readers hold one almost all the time: once 4 s have passed
        // with no compression, the readers pause between snapshots (everything else goes on) until one has run.
        var readersMayGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        readersMayGo.SetResult();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stopper = Task.Run(async () =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(60)
                   && (clock.Elapsed < TimeSpan.FromSeconds(4) || table.Stats.Checkpoints == 0 || Interlocked.Read(ref snapshotsSoFar) <= 20))
            {
                var hold = clock.Elapsed >= TimeSpan.FromSeconds(4) && table.Stats.Checkpoints == 0;
                var gate = Volatile.Read(ref readersMayGo);
                if (hold && gate.Task.IsCompleted)
                    Volatile.Write(ref readersMayGo, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                else if (!hold)
                    gate.TrySetResult();
                await Task.Delay(20);
            }
            await stop.CancelAsync();
            Volatile.Read(ref readersMayGo).TrySetResult();
        });
        long appended = 0, flushedUpTo = 0;
        var failures = new List<string>();

        var writer = Task.Run(async () =>
        {
            for (long lsn = 1; !stop.IsCancellationRequested; lsn++)
            {
                using var batch = BufferTestDatabase.SmallBatch(SizeOf(lsn), $"l{lsn}", first: lsn * 1_000);
                await table.AppendAsync(batch, lsn, default);
                Volatile.Write(ref appended, lsn);
            }
        });
        var flusher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var upTo = Volatile.Read(ref appended);
                var files = await table.ExportParquetAsync(upTo, dir.Path, default);
                var expected = 0L;
                for (var l = Volatile.Read(ref flushedUpTo) + 1; l <= upTo; l++)
                    expected += SizeOf(l);
                if (files.Sum(f => f.Rows) != expected)
                    lock (failures) failures.Add($"export up to {upTo}: {files.Sum(f => f.Rows)} rows, expected {expected}");
                foreach (var f in files)
                    File.Delete(f.LocalPath);
                await table.DeleteUpToAsync(upTo, default);
                Volatile.Write(ref flushedUpTo, upTo);
                await Task.Delay(50);
            }
        });
        var dml = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await table.ApplyUpdateAsync("n % 1000 = 7", [new("level", "'TOUCHED'")], default);
                await Task.Delay(30);
            }
        });
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var checkedSnapshots = 0;
            while (!stop.IsCancellationRequested)
            {
                await Volatile.Read(ref readersMayGo).Task;
                var w = Volatile.Read(ref flushedUpTo);
                using var snapshot = table.OpenSnapshot(w);
                using var result = snapshot.QueryArrow($"SELECT n // 1000 AS lsn, count(*) AS c FROM {snapshot.Relation} GROUP BY 1 ORDER BY 1");
                var rows = ArrowTestData.Rows(result.ReadAll());
                // A flush may have deleted more than w before the snapshot was pinned: the visible LSNs start
                // somewhere above w, then run without a gap, each with its whole batch.
                var first = rows.Count > 0 ? (long)rows[0][0]! : w + 1;
                if (first <= w)
                    lock (failures) failures.Add($"snapshot above {w} sees LSN {first}");
                for (var i = 0; i < rows.Count; i++)
                {
                    var lsn = (long)rows[i][0]!;
                    var count = (long)rows[i][1]!;
                    if (lsn != first + i || count != SizeOf(lsn))
                    {
                        lock (failures)
                            failures.Add($"snapshot above {w}: LSN {lsn} has {count} rows at position {i} (expected LSN {first + i} with {SizeOf(first + i)})");
                        break;
                    }
                }
                checkedSnapshots++;
                Interlocked.Increment(ref snapshotsSoFar);
                await Task.Yield();
            }
            return checkedSnapshots;
        })).ToArray();

        await Task.WhenAll(stopper, writer, flusher, dml);
        var snapshots = (await Task.WhenAll(readers)).Sum();
        await db.WhenBackgroundCheckpointsIdle();
        Assert.Empty(failures);
        Assert.Null(db.LastBackgroundError);
        Assert.True(snapshots > 20, $"only {snapshots} snapshots checked");
        Assert.True(table.Stats.Checkpoints > 0, "no background compression ran");
        // What is left is exactly the unflushed LSNs.
        var left = 0L;
        for (var l = Volatile.Read(ref flushedUpTo) + 1; l <= Volatile.Read(ref appended); l++)
            left += SizeOf(l);
        Assert.Equal(left, table.RowCount);
        Assert.Equal(left, await BufferTestDatabase.CountAsync(table));
    }
}
