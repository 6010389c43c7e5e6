using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Engine;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Wal;

namespace TimeFusion.Tests.Engine;

public sealed class TableEngineTests : EngineTestBase
{
    private static readonly TableId Id = new("proj/ü..", "events");

    [Fact]
    public async Task Inserted_rows_are_visible_before_and_after_a_flush_and_delta_holds_them_with_txn_and_stats()
    {
        await using var engine = await Kit.OpenAsync(Id);
        var lsn1 = await engine.InsertAsync(EngineTestKit.Rows("a", 1000));
        var lsn2 = await engine.InsertAsync(EngineTestKit.Rows("b", 500));
        Assert.Equal(lsn1 + 1, lsn2);
        using (var s = engine.OpenSnapshot()) Assert.Equal((1500L, 1500L), Trim(await Kit.CountAsync(s)));

        var result = await engine.FlushAsync();
        Assert.Equal(lsn2, result.FlushedThroughLsn);
        Assert.Equal(1500, result.Rows);
        Assert.Equal(2, result.Files); // two UTC dates
        Assert.Equal(0, engine.BufferedRows);
        using (var s = engine.OpenSnapshot())
        {
            Assert.Equal((1500L, 1500L), Trim(await Kit.CountAsync(s)));
            Assert.Equal(lsn2, s.Delta.TxnVersion(Id.ToString()));
            Assert.All(s.Delta.Files, f =>
            {
                var stats = f.GetStats()!;
                Assert.True(stats.NumRecords > 0);
                Assert.True(stats.TryGetMinTimestampMicros("timestamp", out var min));
                Assert.True(stats.TryGetMaxTimestampMicros("timestamp", out var max));
                Assert.True(min <= max);
                Assert.Equal(f.PartitionValues["date"], DateOnly.FromDateTime(DateTime.UnixEpoch.AddTicks(min * 10)).ToString("yyyy-MM-dd"));
            });
            Assert.Equal(1500, s.Delta.Files.Sum(f => f.GetStats()!.NumRecords));
        }

        // A second flush with nothing new commits nothing.
        Assert.Null((await engine.FlushAsync()).DeltaVersion);
    }

    [Fact]
    public async Task Unflushed_rows_come_back_exactly_once_after_reopening()
    {
        long expectedSum;
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await engine.InsertAsync(EngineTestKit.Rows("a", 300));
            await engine.FlushAsync();
            await engine.InsertAsync(EngineTestKit.Rows("b", 200, durationBase: 1000));
            await engine.InsertAsync(EngineTestKit.Rows("c", 100, durationBase: 5000));
            using var s = engine.OpenSnapshot();
            expectedSum = (await Kit.CountAsync(s)).DurationSum;
        } // closed without flushing: like a crash, b and c are only in the WAL

        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal(2, reopened.Recovery.ReplayedEntries);
        Assert.Equal(300, reopened.Recovery.ReplayedRows);
        using (var s = reopened.OpenSnapshot())
        {
            var (rows, distinct, sum) = await Kit.CountAsync(s);
            Assert.Equal((600L, 600L, expectedSum), (rows, distinct, sum));
        }
        // New writes continue after the recovered LSNs, and a flush then persists everything once.
        var lsn = await reopened.InsertAsync(EngineTestKit.Rows("d", 10));
        Assert.Equal(4, lsn);
        await reopened.FlushAsync();
        using (var s = reopened.OpenSnapshot()) Assert.Equal((610L, 610L), Trim(await Kit.CountAsync(s)));
    }

    [Fact]
    public async Task A_crash_between_the_delta_commit_and_wal_truncation_does_not_duplicate_rows()
    {
        var faulty = new FaultInjectingWalStorage(Kit.Wal);
        Kit.Wal = faulty;
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await engine.InsertAsync(EngineTestKit.Rows("a", 400));
            faulty.FailDeletes = true; // truncation deletes segments: make it fail after the commit
            await engine.InsertAsync(EngineTestKit.Rows("b", 100)); // a second segment is not needed; force a roll below
            await Assert.ThrowsAsync<TableFaultedException>(() => engine.FlushAsync());
            Assert.Equal(2, engine.FlushedThroughLsn); // committed
            await Assert.ThrowsAsync<TableFaultedException>(() => engine.InsertAsync(EngineTestKit.Rows("x", 1)));
        }
        faulty.FailDeletes = false;
        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal(0, reopened.Recovery.ReplayedEntries); // the WAL still holds LSNs 1-2, but Delta's txn says they are in
        using var s = reopened.OpenSnapshot();
        Assert.Equal((500L, 500L), Trim(await Kit.CountAsync(s)));
    }

    [Fact]
    public async Task Snapshots_taken_while_flushes_and_inserts_race_never_see_a_row_twice_or_miss_one()
    {
        await using var engine = await Kit.OpenAsync(Id);
        const int batches = 40, rowsPerBatch = 250;
        var inserted = 0L;
        var insertsDone = false;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < batches; i++)
            {
                await engine.InsertAsync(EngineTestKit.Rows($"w{i}", rowsPerBatch));
                Interlocked.Add(ref inserted, rowsPerBatch);
            }
            Volatile.Write(ref insertsDone, true);
        });
        var flusher = Task.Run(async () =>
        {
            while (!Volatile.Read(ref insertsDone)) await engine.FlushAsync();
        });
        var checks = 0;
        while (!Volatile.Read(ref insertsDone) || checks < 5)
        {
            var before = Interlocked.Read(ref inserted);
            using var s = engine.OpenSnapshot();
            var after = Interlocked.Read(ref inserted);
            var (rows, distinct, _) = await Kit.CountAsync(s);
            Assert.Equal(rows, distinct); // nothing twice
            Assert.InRange(rows, before, after + rowsPerBatch); // nothing acknowledged missing
            Assert.Equal(0, rows % rowsPerBatch); // whole batches only
            checks++;
        }
        await Task.WhenAll(writer, flusher);
        await engine.FlushAsync();
        using var final = engine.OpenSnapshot();
        Assert.Equal(((long)batches * rowsPerBatch, (long)batches * rowsPerBatch), Trim(await Kit.CountAsync(final)));
    }

    [Fact]
    public async Task A_rejected_batch_writes_nothing_and_the_table_goes_on()
    {
        await using var engine = await Kit.OpenAsync(Id);
        var bad = EngineTestKit.Rows("bad", 10);
        await Assert.ThrowsAsync<BatchRejectedException>(() => engine.InsertAsync(bad.Slice(0, 5).Project("id")));
        Assert.Equal(0, engine.AppliedThroughLsn);
        Assert.Equal(1, await engine.InsertAsync(EngineTestKit.Rows("ok", 3)));
    }

    [Fact]
    public async Task Replaying_more_wal_than_the_memory_budget_holds_flushes_during_recovery_and_stays_under_the_hard_limit()
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            for (var i = 0; i < 20; i++) await engine.InsertAsync(EngineTestKit.Rows($"r{i}", 2000));
        }
        // Reopen in a buffer database whose budget holds only a few of those batches.
        await using var small = new EngineTestKit(Root, new BufferOptions
        {
            MemoryLimitBytes = 1L << 30, Threads = 2, SoftLimitBytes = 600_000, HardLimitBytes = 1_500_000,
            ReserveMaxWait = TimeSpan.FromSeconds(5),
        });
        await using var reopened = await small.OpenAsync(Id);
        Assert.Equal(20, reopened.Recovery.ReplayedEntries);
        Assert.True(reopened.Recovery.FlushesDuringReplay > 0);
        Assert.True(small.Buffer.Budget.PeakUsedBytes <= small.Buffer.Budget.HardLimitBytes);
        using var s = reopened.OpenSnapshot();
        Assert.Equal((40_000L, 40_000L), Trim(await small.CountAsync(s)));
    }

    private static (long, long) Trim((long Rows, long Distinct, long Sum) c) => (c.Rows, c.Distinct);
}

internal static class RecordBatchTestExtensions
{
    /// <summary>The batch with only the named columns.</summary>
    public static Apache.Arrow.RecordBatch Project(this Apache.Arrow.RecordBatch batch, params string[] names)
    {
        var idx = names.Select(n => batch.Schema.GetFieldIndex(n)).ToArray();
        return new Apache.Arrow.RecordBatch(new Apache.Arrow.Schema(idx.Select(i => batch.Schema.GetFieldByIndex(i)), null),
            idx.Select(i => batch.Column(i)), batch.Length);
    }
}

public sealed class FlushedParquetTests : EngineTestBase
{

    [Fact]
    public async Task Duckdb_read_parquet_over_the_delta_files_returns_exactly_the_buffered_rows()
    {
        await using var engine = await Kit.OpenAsync(new TableId("p", "events"));
        await engine.InsertAsync(EngineTestKit.Rows("a", 700));
        await engine.InsertAsync(EngineTestKit.Rows("b", 300, durationBase: 10_000));
        var columns = string.Join(", ", EngineTestKit.Schema.Columns.Select(c => SqlNames.Quote(c.Name)));
        string Render(string relation) =>
            $"SELECT string_agg(row_text, chr(10) ORDER BY row_text) FROM (SELECT CAST(ROW({columns}) AS VARCHAR) AS row_text FROM {relation})";

        string before;
        using (var s = engine.OpenSnapshot())
            before = (string)s.Buffer.QueryScalar(Render(s.Buffer.Relation))!;

        await engine.FlushAsync();
        using var after = engine.OpenSnapshot();
        Assert.Equal(0L, after.Buffer.CountRows());
        var files = new List<string>();
        foreach (var add in after.Delta.Files) files.Add(await Kit.Objects.GetLocalPathAsync(after.Delta.ObjectPath(add)));
        // The date partition column lives in the path (Delta convention); DuckDB recovers it from the hive folder.
        var parquet = $"read_parquet([{string.Join(", ", files.Select(SqlNames.Literal))}], hive_partitioning = true, hive_types = {{'date': DATE}})";
        var fromParquet = (string)after.Buffer.QueryScalar(Render(parquet))!;
        Assert.Equal(1000, before.Split('\n').Length);
        Assert.Equal(before, fromParquet);

        // Files are sorted by timestamp and compressed with zstd, with statistics.
        var meta = after.Buffer.QueryScalar(
            $"SELECT string_agg(DISTINCT compression, ',') || '|' || bool_and(stats_min IS NOT NULL) FROM parquet_metadata([{string.Join(", ", files.Select(SqlNames.Literal))}]) WHERE path_in_schema = 'timestamp'");
        Assert.Equal("ZSTD|true", meta);
        foreach (var f in files)
        {
            var sorted = after.Buffer.QueryScalar($"SELECT bool_and(ts >= prev) FROM (SELECT \"timestamp\" AS ts, lag(\"timestamp\", 1, \"timestamp\") OVER (ORDER BY file_row_number) AS prev FROM read_parquet({SqlNames.Literal(f)}, file_row_number = true))");
            Assert.Equal(true, sorted);
        }
    }
}
