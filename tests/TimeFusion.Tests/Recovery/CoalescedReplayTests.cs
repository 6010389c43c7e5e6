using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Wal;

namespace TimeFusion.Tests.Recovery;

/// <summary>
/// Replay appends consecutive WAL inserts together (up to <see cref="BufferOptions.ReplayCoalescedRows"/> rows per buffer
/// transaction) while a reader stage decodes ahead: every acknowledged row still comes back exactly once, in LSN order,
/// damage is still skipped and quarantined, and DML entries still apply between the inserts around them.
/// </summary>
public sealed class CoalescedReplayTests : EngineTestBase
{
    // DuckDB transactions are counted as batches reach DuckDB: without the tail, which would hold these small batches back.
    protected override BufferOptions? KitBuffer => new() { TailRows = 0, MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 2 };

    private static readonly TableId Id = new("p", "events");

    private string WalRoot => Path.Combine(Root, "wal");

    /// <summary>Inserts <paramref name="entries"/> batches of <paramref name="rows"/> rows ("e{i}-…", durations 1000·i + row) and returns the segment's length after each.</summary>
    private async Task<List<long>> WriteAsync(TableId id, int entries, int rows)
    {
        await using (var engine = await Kit.OpenAsync(id))
        {
            for (var i = 1; i <= entries; i++)
                Assert.Equal(i, await engine.InsertAsync(EngineTestKit.Rows($"e{i}", rows, durationBase: 1000L * i)));
        }
        // Disposed without a flush: everything is in the WAL only. Frame ends from the frames (a Direct-mode segment is
        // zero-filled ahead of its entries while open).
        return WalFiles.FrameEnds(WalFiles.Segments(WalRoot, id).Single());
    }

    private static long DurationSum(IEnumerable<int> entries, int rows) => entries.Sum(i => rows * 1000L * i + rows * (rows - 1L) / 2);

    [Fact]
    public async Task Many_small_entries_replay_in_few_transactions_in_lsn_order_and_exactly_once_after_a_flush()
    {
        const int entries = 300, rows = 5;
        await WriteAsync(Id, entries, rows);
        await using (var engine = await Kit.OpenAsync(Id))
        {
            Assert.Equal(entries, engine.Recovery.ReplayedEntries);
            Assert.Equal(entries * rows, engine.Recovery.ReplayedRows);
            Assert.Equal(entries, engine.AppliedThroughLsn);
            // Coalesced: far fewer DuckDB transactions than entries (one per entry before).
            Assert.InRange(engine.BufferStats.AppendTransactions, 1, entries / 2);
            using (var s = engine.OpenSnapshot())
                Assert.Equal((entries * rows, entries * rows, DurationSum(Enumerable.Range(1, entries), rows)), await Kit.CountAsync(s));
            Assert.Equal(entries + 1, await engine.InsertAsync(EngineTestKit.Rows("after", rows)));
            await engine.FlushAsync();
        }
        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal(0, reopened.Recovery.ReplayedEntries);
        using var snapshot = reopened.OpenSnapshot();
        var (count, distinct, _) = await Kit.CountAsync(snapshot);
        Assert.Equal(((entries + 1) * rows, (entries + 1) * rows), (count, distinct));
    }

    [Fact]
    public async Task Coalesced_groups_respect_the_row_limit()
    {
        await WriteAsync(Id, 40, 100);
        await using var small = new EngineTestKit(Root, new BufferOptions
        {
            TailRows = 0,
            MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 2, ReplayCoalescedRows = 250,
        });
        await using var engine = await small.OpenAsync(Id);
        Assert.Equal(40, engine.Recovery.ReplayedEntries);
        // At most two 100-row entries fit a 250-row group: at least 20 transactions.
        Assert.InRange(engine.BufferStats.AppendTransactions, 20, 40);
        using var s = engine.OpenSnapshot();
        Assert.Equal(4000, (await small.CountAsync(s)).Rows);
    }

    [Fact]
    public async Task Replay_groups_by_its_own_setting_when_live_coalescing_is_off_and_not_by_the_live_one()
    {
        const int entries = 200, rows = 5;
        await WriteAsync(Id, entries, rows);
        // Live coalescing off, replay's grouping at its default: still few transactions.
        await using (var liveOff = new EngineTestKit(Root, new BufferOptions
        {
            TailRows = 0, MaxCoalescedRows = 0,
            MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 2,
        }))
        {
            await using var engine = await liveOff.OpenAsync(Id);
            Assert.Equal(entries, engine.Recovery.ReplayedEntries);
            Assert.InRange(engine.BufferStats.AppendTransactions, 1, entries / 10);
            using var s = engine.OpenSnapshot();
            Assert.Equal(entries * rows, (await liveOff.CountAsync(s)).Rows);
        }
        // Replay's grouping off, live coalescing at its default: one transaction per entry.
        await using var replayOff = new EngineTestKit(Root, new BufferOptions
        {
            TailRows = 0, ReplayCoalescedRows = 0,
            MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 2,
        });
        await using var again = await replayOff.OpenAsync(Id);
        Assert.Equal(entries, again.Recovery.ReplayedEntries);
        Assert.Equal(entries, again.BufferStats.AppendTransactions);
    }

    [Fact]
    public void A_negative_replay_group_is_refused_at_start() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BufferOptions { ReplayCoalescedRows = -1 }.Validate());

    [Fact]
    public async Task Tables_replay_side_by_side_and_each_gets_only_its_own_rows()
    {
        var ids = Enumerable.Range(0, 4).Select(i => new TableId($"p{i}", "events")).ToArray();
        for (var t = 0; t < ids.Length; t++) await WriteAsync(ids[t], 20 + 10 * t, 50);
        var engines = await Task.WhenAll(ids.Select(id => Kit.OpenAsync(id)));
        try
        {
            for (var t = 0; t < ids.Length; t++)
            {
                var entries = 20 + 10 * t;
                Assert.Equal(entries, engines[t].Recovery.ReplayedEntries);
                using var s = engines[t].OpenSnapshot();
                Assert.Equal((entries * 50L, entries * 50L, DurationSum(Enumerable.Range(1, entries), 50)), await Kit.CountAsync(s));
            }
        }
        finally
        {
            foreach (var e in engines) await e.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_torn_tail_is_cut_and_the_entries_before_it_replay_once()
    {
        var ends = await WriteAsync(Id, 30, 20);
        using (var f = new FileStream(WalFiles.Segments(WalRoot, Id).Single(), FileMode.Open)) f.SetLength(ends[29] + 11);
        await using (var engine = await Kit.OpenAsync(Id))
        {
            Assert.NotNull(engine.Recovery.Wal.TornTail);
            Assert.Equal(29, engine.Recovery.ReplayedEntries);
            Assert.Equal(29, engine.AppliedThroughLsn);
            Assert.Equal(30, await engine.InsertAsync(EngineTestKit.Rows("new", 20)));
        }
        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal(30, reopened.Recovery.ReplayedEntries);
        using var s = reopened.OpenSnapshot();
        Assert.Equal((600L, 600L), Trim(await Kit.CountAsync(s)));
    }

    [Fact]
    public async Task A_damaged_region_in_the_middle_is_quarantined_and_the_entries_around_it_replay_in_order()
    {
        var ends = await WriteAsync(Id, 40, 20);
        var segment = WalFiles.Segments(WalRoot, Id).Single();
        var bytes = await File.ReadAllBytesAsync(segment);
        for (var i = 0; i < 16; i++) bytes[ends[19] + 40 + i] ^= 0xFF; // inside entry 20
        await File.WriteAllBytesAsync(segment, bytes);

        await using (var engine = await Kit.OpenAsync(Id))
        {
            var damage = Assert.Single(engine.Recovery.Wal.CorruptEntries);
            Assert.Equal(ends[19], damage.Position);
            Assert.Single(engine.Recovery.Wal.QuarantineFiles);
            Assert.Equal(39, engine.Recovery.ReplayedEntries);
            Assert.Equal(40, engine.AppliedThroughLsn);
            var kept = Enumerable.Range(1, 40).Where(i => i != 20).ToList();
            using (var s = engine.OpenSnapshot())
                Assert.Equal((780L, 780L, DurationSum(kept, 20)), await Kit.CountAsync(s));
            Assert.Equal(41, await engine.InsertAsync(EngineTestKit.Rows("new", 20)));
            await engine.FlushAsync();
        }
        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal(0, reopened.Recovery.ReplayedEntries);
        using var after = reopened.OpenSnapshot();
        Assert.Equal((800L, 800L), Trim(await Kit.CountAsync(after)));
    }

    [Fact]
    public async Task A_delete_between_inserts_applies_after_the_inserts_before_it_and_before_those_after_it()
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            for (var i = 1; i <= 10; i++) await engine.InsertAsync(EngineTestKit.Rows($"a{i}", 10, durationBase: 1000L * i));
            Assert.Equal(10, await engine.DeleteAsync("duration % 1000 = 0")); // the first row of each batch
            for (var i = 11; i <= 20; i++) await engine.InsertAsync(EngineTestKit.Rows($"b{i}", 10, durationBase: 1000L * i));
        }
        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal(21, reopened.Recovery.ReplayedEntries);
        using var s = reopened.OpenSnapshot();
        // 100 + 100 rows, minus the 10 deleted before the second half was written (whose first rows stay).
        Assert.Equal((190L, 190L, DurationSum(Enumerable.Range(1, 20), 10) - Enumerable.Range(1, 10).Sum(i => 1000L * i)),
            await Kit.CountAsync(s));
    }

    private static (long, long) Trim((long Rows, long Distinct, long Sum) c) => (c.Rows, c.Distinct);
}
