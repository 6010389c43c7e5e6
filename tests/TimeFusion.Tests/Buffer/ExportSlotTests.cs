using TimeFusion.Buffer;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// <see cref="BufferOptions.MaxConcurrentExports"/>: a flush's (background) export waits for a silo-wide slot, a COPY's
/// spill (foreground) does not; <see cref="BufferOptions.ExportOnOneThread"/>: a flush encodes on its own thread only,
/// unless it is falling behind. Either way every row is exported.
/// </summary>
public class ExportSlotTests
{
    private static readonly DateTimeOffset Start = new(2024, 3, 5, 22, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_flush_waits_for_an_export_slot_and_a_spill_does_not()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open(o => o.MaxConcurrentExports = 1);
        await using var flushed = await BufferTable.CreateAsync(db, new TableId("p1", "flushed"), BufferTestDatabase.SmallSchema, default);
        await using var spilled = await BufferTable.CreateAsync(db, new TableId("p1", "spilled"), BufferTestDatabase.SmallSchema, default);
        await flushed.AppendAsync(BufferTestDatabase.SmallBatch(300, "f", first: 0, start: Start), 1, default);
        await spilled.AppendAsync(BufferTestDatabase.SmallBatch(200, "s", first: 0, start: Start), 1, default);

        var slots = db.ExportSlots!;
        await slots.WaitAsync(); // another table's flush exporting
        var flush = flushed.ExportParquetAsync(1, Path.Combine(dir.Path, "f"), default);
        var spill = await spilled.ExportParquetAsync(1, Path.Combine(dir.Path, "s"), default, background: false);
        Assert.Equal(200, spill.Sum(f => f.Rows));
        Assert.False(flush.IsCompleted, "the flush exported while the only slot was taken");

        slots.Release();
        Assert.Equal(300, (await flush).Sum(f => f.Rows));
        Assert.Equal(1, slots.CurrentCount); // given back
    }

    [Fact]
    public async Task By_default_there_are_no_slots_and_flushes_use_the_pool_and_a_limit_makes_that_many_slots()
    {
        await using (var unlimited = BufferTestDatabase.Open())
        {
            Assert.Null(unlimited.ExportSlots);
            Assert.False(unlimited.Options.ExportOnOneThread);
        }
        await using var db = BufferTestDatabase.Open(o => o.MaxConcurrentExports = 3);
        Assert.Equal(3, db.ExportSlots!.CurrentCount);
    }

    [Theory]
    [InlineData(false, true, 100, true)]
    [InlineData(true, true, 100, false)]
    [InlineData(true, false, 100, true)]
    [InlineData(true, true, 600, true)]
    public async Task A_flush_encodes_on_one_thread_when_asked_unless_it_falls_behind(bool oneThread, bool background, int rows, bool pool)
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open(o => (o.ExportOnOneThread, o.TailRows) = (oneThread, 1_000));
        await using var table = await BufferTable.CreateAsync(db, new TableId("p1", "small"), BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(rows, "r", first: 0, start: Start), 1, default);

        var files = await table.ExportParquetAsync(1, dir.Path, default, background: background);

        Assert.Equal(rows, files.Sum(f => f.Rows));
        Assert.True(table.LastExportUsedArrowWriter);
        Assert.Equal(pool, table.LastExportUsedPool);
    }

    [Fact]
    public void A_negative_limit_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(new BufferOptions { MaxConcurrentExports = -1 }.Validate);
        Assert.Equal(nameof(BufferOptions.MaxConcurrentExports), e.ParamName);
    }
}
