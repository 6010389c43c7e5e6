using TimeFusion.Tables;

namespace TimeFusion.Tests.Engine;

/// <summary>
/// Small inserts wait in the buffer's tail (as Arrow) and reach DuckDB together; whatever reads or changes the table
/// still sees every acknowledged row exactly once: snapshots, DML, flushes, and a reopening (WAL replay).
/// </summary>
public sealed class BufferTailTests : EngineTestBase
{
    private static readonly TableId Id = new("p", "tail");

    [Fact]
    public async Task Concurrent_small_inserts_are_read_back_at_once_and_land_once_through_flushes_and_reopening()
    {
        long expectedRows = 0, expectedSum = 0;
        await using (var engine = await Kit.OpenAsync(Id))
        {
            const int writers = 8, statements = 25, rows = 30;
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (var s = 0; s < statements; s++)
                {
                    var durationBase = 1_000_000L * (w * statements + s + 1);
                    await engine.InsertAsync(EngineTestKit.Rows($"w{w}s{s}", rows, durationBase));
                    // Read-your-writes: the rows just acknowledged are visible to the next snapshot, tail or not.
                    using var snapshot = engine.OpenSnapshot();
                    var seen = await Kit.CountAsync(snapshot);
                    Assert.True(seen.Rows >= (s + 1) * rows, $"writer {w} statement {s}: {seen.Rows} rows visible");
                    if (s == statements / 2 && w == 0)
                        await engine.FlushAsync(); // a flush in the middle moves and persists whatever the tail holds
                }
            })));
            expectedRows = writers * statements * rows;
            for (var w = 0; w < writers; w++)
                for (var s = 0; s < statements; s++)
                    expectedSum += rows * 1_000_000L * (w * statements + s + 1) + rows * (rows - 1L) / 2;
            using (var snapshot = engine.OpenSnapshot())
                Assert.Equal((expectedRows, expectedRows, expectedSum), await Kit.CountAsync(snapshot));
            // The last rows are still unflushed (in the tail or DuckDB): closed without a flush, like a crash.
            await engine.InsertAsync(EngineTestKit.Rows("last", 7, 5));
            expectedRows += 7;
            expectedSum += 7 * 5 + 21;
            Assert.True(engine.BufferedRows >= 7);
        }
        await using var reopened = await Kit.OpenAsync(Id);
        using (var snapshot = reopened.OpenSnapshot())
            Assert.Equal((expectedRows, expectedRows, expectedSum), await Kit.CountAsync(snapshot));
    }

    [Fact]
    public async Task A_delete_applies_to_rows_still_in_the_tail_and_rows_logged_after_it_survive()
    {
        await using var engine = await Kit.OpenAsync(Id);
        await engine.InsertAsync(EngineTestKit.Rows("gone", 10));
        await engine.InsertAsync(EngineTestKit.Rows("kept", 10));
        var deleted = await engine.DeleteAsync("id LIKE 'gone-%'");
        Assert.Equal(10, deleted);
        await engine.InsertAsync(EngineTestKit.Rows("after", 5));
        await engine.FlushAsync();
        using var snapshot = engine.OpenSnapshot();
        Assert.Equal(15, (await Kit.CountAsync(snapshot)).Rows);
        Assert.Equal(0, engine.BufferedRows);
    }
}
