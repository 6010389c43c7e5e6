using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Transactions;

namespace TimeFusion.Tests.Transactions;

/// <summary>
/// Write transactions of one table engine (the COPY path): staged rows are invisible until the commit, which shows all of
/// them at once; abort, a lost activation or a crash leave nothing, before or after reopening; rows committed next to
/// plain inserts come back exactly once; a transaction many times the memory budget spills and stays under the hard limit.
/// </summary>
public sealed class TableEngineTransactionTests : EngineTestBase
{
    private static readonly TableId Id = new("txn-proj", "events");

    private static (long Rows, long Distinct) Trim((long Rows, long Distinct, long Sum) c) => (c.Rows, c.Distinct);

    private async Task<(long Rows, long Distinct)> CountAsync(TableEngine engine)
    {
        using var s = engine.OpenSnapshot();
        return Trim(await Kit.CountAsync(s));
    }

    private Task<int> ParquetFilesAsync() => ParquetFilesAsync(Kit);

    private static async Task<int> ParquetFilesAsync(EngineTestKit kit) =>
        (await kit.Objects.ListAsync("")).Count(o => o.Path.EndsWith(".parquet", StringComparison.Ordinal));

    [Fact]
    public async Task Staged_rows_are_invisible_until_the_commit_shows_all_of_them_at_once()
    {
        await using var engine = await Kit.OpenAsync(Id);
        await engine.InsertAsync(EngineTestKit.Rows("plain", 50));
        var txn = Guid.NewGuid();
        await engine.BeginTransactionAsync(txn);
        for (var i = 0; i < 5; i++) Assert.Equal((i + 1) * 200L, await engine.StageAsync(txn, EngineTestKit.Rows($"t{i}", 200)));
        Assert.Equal((50L, 50L), await CountAsync(engine));
        Assert.Equal(1, engine.OpenTransactions);

        Assert.Equal(1_000, await engine.CommitTransactionAsync(txn));
        Assert.Equal((1_050L, 1_050L), await CountAsync(engine));
        Assert.Equal(0, engine.OpenTransactions);
        Assert.Equal(50, engine.BufferedRows); // the committed rows went to Delta, not the buffer
        await Assert.ThrowsAsync<TransactionNotFoundException>(() => engine.CommitTransactionAsync(txn));
    }

    [Fact]
    public async Task An_aborted_transaction_leaves_nothing_and_deletes_its_spilled_files()
    {
        var options = new EngineOptions();
        options.Flush.MaxBufferedBytes = 1; // spill every chunk
        await using var kit = new EngineTestKit(Root, options: options);
        await using var engine = await kit.OpenAsync(Id);
        var txn = Guid.NewGuid();
        await engine.BeginTransactionAsync(txn);
        for (var i = 0; i < 3; i++) await engine.StageAsync(txn, EngineTestKit.Rows($"t{i}", 3000));
        // Each chunk spills beside the next; a spill starts only after the previous one ended, so two are written and the
        // third may still be running: the abort waits for it and deletes its files with the others.
        Assert.True(await ParquetFilesAsync(kit) >= 2);
        await engine.AbortTransactionAsync(txn);
        Assert.Equal(0, await ParquetFilesAsync(kit));
        Assert.Equal(0, engine.StagedBytes);
        Assert.Equal(0, engine.OpenTransactions);
        using var s = engine.OpenSnapshot();
        Assert.Equal((0L, 0L), Trim(await kit.CountAsync(s)));
        await Assert.ThrowsAsync<TransactionNotFoundException>(() => engine.StageAsync(txn, EngineTestKit.Rows("late", 1)));
    }

    [Fact]
    public async Task A_transaction_open_when_the_table_closes_never_appears_and_plain_inserts_come_back_once()
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await engine.InsertAsync(EngineTestKit.Rows("plain", 70));
            var txn = Guid.NewGuid();
            await engine.BeginTransactionAsync(txn);
            await engine.StageAsync(txn, EngineTestKit.Rows("staged", 500));
        } // closed without flushing or committing, as a deactivation or crash would

        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal((70L, 70L), await CountAsync(reopened));
        Assert.Equal(0, reopened.OpenTransactions);
        Assert.Equal(0, await ParquetFilesAsync());
    }

    [Fact]
    public async Task Rows_committed_between_plain_inserts_come_back_exactly_once_after_reopening()
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await engine.InsertAsync(EngineTestKit.Rows("a", 100));
            var txn = Guid.NewGuid();
            await engine.BeginTransactionAsync(txn);
            await engine.StageAsync(txn, EngineTestKit.Rows("t", 300));
            await engine.InsertAsync(EngineTestKit.Rows("b", 40)); // a plain insert while the transaction is open
            await engine.FlushAsync(); // flushed before the commit
            await engine.InsertAsync(EngineTestKit.Rows("c", 20));
            await engine.CommitTransactionAsync(txn);
            await engine.InsertAsync(EngineTestKit.Rows("d", 10));
            Assert.Equal((470L, 470L), await CountAsync(engine));
        } // c and d only in the WAL

        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal(2, reopened.Recovery.ReplayedEntries);
        Assert.Equal((470L, 470L), await CountAsync(reopened));
        await reopened.FlushAsync();
        Assert.Equal((470L, 470L), await CountAsync(reopened));
    }

    [Fact]
    public async Task A_transaction_many_times_the_memory_budget_spills_and_stays_under_the_hard_limit()
    {
        await using var small = new EngineTestKit(Root, new BufferOptions
        {
            MemoryLimitBytes = 1L << 30, Threads = 2, SoftLimitBytes = 600_000, HardLimitBytes = 1_500_000,
            ReserveMaxWait = TimeSpan.FromSeconds(5),
        });
        await using var engine = await small.OpenAsync(Id);
        var txn = Guid.NewGuid();
        await engine.BeginTransactionAsync(txn);
        for (var i = 0; i < 20; i++)
        {
            using var rows = EngineTestKit.Rows($"r{i}", 2000);
            await engine.StageAsync(txn, rows);
            Assert.True(engine.StagedBytes <= small.Buffer.Budget.HardLimitBytes);
        }
        Assert.Equal(40_000, await engine.CommitTransactionAsync(txn));
        Assert.True(small.Buffer.Budget.PeakUsedBytes <= small.Buffer.Budget.HardLimitBytes);
        using var s = engine.OpenSnapshot();
        Assert.Equal((40_000L, 40_000L), Trim(await small.CountAsync(s)));
    }

    [Fact]
    public async Task A_rejected_chunk_stages_nothing_and_the_caller_aborts()
    {
        await using var engine = await Kit.OpenAsync(Id);
        var txn = Guid.NewGuid();
        await engine.BeginTransactionAsync(txn);
        await engine.StageAsync(txn, EngineTestKit.Rows("ok", 100));
        using var bad = EngineTestKit.Rows("bad", 10).Project("service", "duration", "timestamp"); // id is NOT NULL
        await Assert.ThrowsAsync<BatchRejectedException>(() => engine.StageAsync(txn, bad));
        await engine.AbortTransactionAsync(txn);
        Assert.Equal((0L, 0L), await CountAsync(engine));
    }

    [Fact]
    public async Task Unknown_duplicate_and_idle_transactions_are_refused_or_aborted()
    {
        await using var engine = await Kit.OpenAsync(Id);
        await Assert.ThrowsAsync<TransactionNotFoundException>(() => engine.StageAsync(Guid.NewGuid(), EngineTestKit.Rows("x", 1)));
        var txn = Guid.NewGuid();
        await engine.BeginTransactionAsync(txn);
        await Assert.ThrowsAsync<InvalidOperationException>(() => engine.BeginTransactionAsync(txn));
        await engine.StageAsync(txn, EngineTestKit.Rows("idle", 10));
        Assert.Equal(0, await engine.AbortIdleTransactionsAsync(TimeSpan.FromHours(1)));
        Assert.Equal(1, await engine.AbortIdleTransactionsAsync(TimeSpan.Zero));
        await Assert.ThrowsAsync<TransactionNotFoundException>(() => engine.CommitTransactionAsync(txn));
        Assert.Equal((0L, 0L), await CountAsync(engine));
    }

    [Fact]
    public async Task Vacuum_keeps_the_spilled_files_of_an_open_transaction()
    {
        var options = new EngineOptions();
        options.Flush.MaxBufferedBytes = 1; // spill every chunk
        await using var kit = new EngineTestKit(Root, options: options);
        await using var engine = await kit.OpenAsync(Id);
        var txn = Guid.NewGuid();
        await engine.BeginTransactionAsync(txn);
        await engine.StageAsync(txn, EngineTestKit.Rows("v", 3000));
        // A spill runs beside the next chunk; the next spill starts only after it ended, so the first one's files are
        // there once the second chunk is staged.
        await engine.StageAsync(txn, EngineTestKit.Rows("w", 3000));
        Assert.True(await ParquetFilesAsync(kit) > 0); // spilled
        var vacuum = await engine.VacuumAsync(TimeSpan.Zero);
        Assert.Equal(0, vacuum.OrphansDeleted);
        Assert.Equal(6000, await engine.CommitTransactionAsync(txn));
        using var s = engine.OpenSnapshot();
        Assert.Equal((6000L, 6000L), Trim(await kit.CountAsync(s)));
    }
}
