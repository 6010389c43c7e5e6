using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

public class BufferLifecycleTests
{
    private static readonly TableId Id = new("p1", "small");

    [Fact]
    public async Task Snapshots_after_a_flush_delete_read_the_table_without_the_lsn_filter()
    {
        // DuckDB's generations (the tail would hold these rows as Arrow).
        await using var db = BufferTestDatabase.Open(o => o.TailRows = 0);
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(100, "a"), 1, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(50, "b", first: 100), 2, default);
        using (var before = table.OpenSnapshot(1))
        {
            Assert.Contains("_lsn\" > 1", before.Relation);
            Assert.Equal(50, before.CountRows());
        }
        Assert.Equal(100, await table.DeleteUpToAsync(1, default));
        Assert.Equal(1, table.DeletedUpToLsn);
        using (var after = table.OpenSnapshot(1))
        {
            Assert.DoesNotContain(" > ", after.Relation);
            Assert.Equal(50, after.CountRows());
        }
        using (var above = table.OpenSnapshot(2))
            Assert.Equal(0, above.CountRows());
        // Rows of an LSN that was already flushed cannot come back.
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => table.AppendAsync(BufferTestDatabase.SmallBatch(1), 1, default));
    }

    [Fact]
    public async Task Full_generations_are_compressed_in_the_background_and_flushed_ones_detached_after_their_readers_close()
    {
        await using var db = BufferTestDatabase.Open(o => { o.GenerationRows = 20_000; o.TailRows = 0; }); // generations as appends arrive, no tail
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(10_000, "a", first: 0), 1, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(10_000, "b", first: 10_000), 2, default);
        Assert.Equal(1, table.GenerationCount);
        var uncompressed = db.TableMemoryBytes();
        // The next append seals the full generation; a background CHECKPOINT compresses it.
        await table.AppendAsync(BufferTestDatabase.SmallBatch(10_000, "c", first: 20_000), 3, default);
        await db.WhenBackgroundCheckpointsIdle();
        Assert.Null(db.LastBackgroundError);
        Assert.Equal(2, table.GenerationCount);
        Assert.True(table.Stats.Checkpoints >= 1);
        var compressed = db.TableMemoryBytes();
        Assert.True(compressed < uncompressed, $"{compressed} >= {uncompressed}");

        // A snapshot opened before the flush keeps reading the generation the flush drops.
        using var old = table.OpenSnapshot(-1);
        Assert.Equal(20_000, await table.DeleteUpToAsync(2, default));
        Assert.Equal(1, table.GenerationCount);
        Assert.Equal(10_000, table.RowCount);
        Assert.Equal(30_000, old.CountRows());
        Assert.Equal(10_000, await BufferTestDatabase.CountAsync(table));
        var whileRead = db.TableMemoryBytes();
        old.Dispose();
        Assert.True(db.TableMemoryBytes() < whileRead, "closing the last reader did not free the dropped generation");
        Assert.Null(db.LastBackgroundError);
    }

    [Fact]
    public async Task Dml_over_several_generations_is_all_or_nothing()
    {
        await using var db = BufferTestDatabase.Open(o =>
        {
            o.GenerationRows = 1_000;
            o.TailRows = 0; // generations as appends arrive
            o.CompressInBackground = false; // keep the generations apart
        });
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        for (var lsn = 1; lsn <= 4; lsn++)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(1_000, $"l{lsn}", first: lsn * 1_000), lsn, default);
        Assert.Equal(4, table.GenerationCount);
        Assert.Equal(0, table.Stats.Checkpoints);
        // Fails only in the last generation (n >= 4000): nothing may change in the others.
        await Assert.ThrowsAsync<BufferException>(() => table.ApplyUpdateAsync("true", [new("n", "CASE WHEN n >= 4000 THEN 'x'::BIGINT ELSE -n END")], default));
        using (var snapshot = table.OpenSnapshot(-1))
            Assert.Equal(0L, snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE n < 0"));
        Assert.Equal(4_000, await table.ApplyUpdateAsync("n % 2 = 0 OR n % 2 = 1", [new("level", "'ALL'")], default));
        Assert.Equal(2_000, await table.ApplyDeleteAsync("n % 2 = 0", default));
        Assert.Equal(2_000, table.RowCount);
        using (var snapshot = table.OpenSnapshot(-1))
        {
            Assert.Equal(2_000L, snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE level = 'ALL'"));
            Assert.Equal(2_000, snapshot.CountRows());
        }
        await db.WhenBackgroundCheckpointsIdle();
        Assert.Null(db.LastBackgroundError);
    }

    [Fact]
    public async Task Sealed_generations_merge_into_the_base_but_never_across_a_pending_flush()
    {
        await using var db = BufferTestDatabase.Open(o => { o.GenerationRows = 2_000; o.TailRows = 0; }); // generations as appends arrive, no tail
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        BufferSnapshot? early = null;
        for (var lsn = 1; lsn <= 10; lsn++)
        {
            await table.AppendAsync(BufferTestDatabase.SmallBatch(1_000, $"l{lsn}", first: lsn * 1_000), lsn, default);
            if (lsn == 5)
                early = table.OpenSnapshot(-1);
        }
        await db.WhenBackgroundCheckpointsIdle();
        Assert.Null(db.LastBackgroundError);
        // Four sealed generations were merged into one compressed base; the fifth seal happens at the next append.
        Assert.Equal(2, table.GenerationCount);
        Assert.True(table.Stats.Checkpoints >= 4, $"{table.Stats.Checkpoints} checkpoints");
        Assert.Equal(10_000, table.RowCount);
        Assert.Equal(10_000, await BufferTestDatabase.CountAsync(table));
        // A snapshot opened half way still sees exactly its rows, although they were merged since.
        Assert.Equal(5_000, early!.CountRows());
        Assert.Equal(5_000L, early.QueryScalar($"SELECT count(DISTINCT id) FROM {early.Relation}"));
        early.Dispose();

        // Export up to LSN 10 (sealing the generation taking appends), then append more before the delete:
        // the new rows must not be merged into the exported base, so that the delete is a DETACH.
        using var dir = new TimeFusion.Tests.Infrastructure.TempDirectory();
        var files = await table.ExportParquetAsync(10, dir.Path, default);
        Assert.Equal(10_000, files.Sum(f => f.Rows));
        for (var lsn = 11; lsn <= 16; lsn++)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(1_000, $"l{lsn}", first: lsn * 1_000), lsn, default);
        await db.WhenBackgroundCheckpointsIdle();
        // The exported base (LSNs 1-8), the generation the export sealed (9-10, left uncompressed: it is about to
        // be dropped), the base of LSNs 11-14, and the one taking appends.
        Assert.Equal(4, table.GenerationCount);
        Assert.Equal(10_000, await table.DeleteUpToAsync(10, default));
        Assert.Equal(2, table.GenerationCount);
        Assert.Equal(6_000, table.RowCount);
        Assert.Equal(6_000, await BufferTestDatabase.CountAsync(table));
        using (var after = table.OpenSnapshot(10))
            Assert.Equal(11_000L, after.QueryScalar($"SELECT min(n) FROM {after.Relation}"));
        await db.WhenBackgroundCheckpointsIdle();
        Assert.Null(db.LastBackgroundError);
    }

    [Fact]
    public async Task Disposing_a_table_frees_its_memory_even_with_a_snapshot_open()
    {
        // DuckDB's memory: the rows must be in its generations, not in the tail.
        await using var db = BufferTestDatabase.Open(o => o.TailRows = 0);
        await using var keep = await BufferTable.CreateAsync(db, new TableId("p2", "keep"), BufferTestDatabase.SmallSchema, default);
        await keep.AppendAsync(BufferTestDatabase.SmallBatch(1_000), 1, default);
        var other = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await other.AppendAsync(BufferTestDatabase.SmallBatch(50_000, "o"), 1, default);
        var withOther = db.TableMemoryBytes();
        using (var snapshot = other.OpenSnapshot(-1))
        {
            Assert.Equal(50_000, snapshot.CountRows());
            await other.DisposeAsync();
        }
        Assert.True(db.TableMemoryBytes() < withOther / 2, "dropping a table did not free its memory");
        Assert.Equal(1_000, await BufferTestDatabase.CountAsync(keep));
        Assert.Null(db.LastBackgroundError);
    }
}
