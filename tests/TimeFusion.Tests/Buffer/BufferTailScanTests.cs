using System.Globalization;
using TimeFusion.Buffer;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// The tail read in place through <c>tf_arrow_scan</c>: the same answers as DuckDB's own tables, each row exactly once
/// while the tail moves into DuckDB under readers, nothing readable after its snapshot closed, and buffers that stay
/// put while the garbage collector compacts.
/// </summary>
public class BufferTailScanTests
{
    private static readonly TableId Id = new("p1", "scan");

    [Fact]
    public async Task Projections_filters_and_aggregates_over_the_tail_equal_DuckDBs_own_table()
    {
        await using var tailDb = BufferTestDatabase.Open();
        await using var duckDb = BufferTestDatabase.Open(o => o.TailRows = 0);
        await using var inTail = await BufferTable.CreateAsync(tailDb, Id, BufferTestDatabase.SmallSchema, default);
        await using var inDuck = await BufferTable.CreateAsync(duckDb, Id, BufferTestDatabase.SmallSchema, default);
        // Sizes around DuckDB's vector (2,048 rows) so that slices split batches.
        var sizes = new[] { 1, 2_047, 2_048, 2_049, 5_000, 30 };
        long first = 0;
        for (var i = 0; i < sizes.Length; i++)
        {
            await inTail.AppendAsync(BufferTestDatabase.SmallBatch(sizes[i], $"b{i}", first), i + 1, default);
            await inDuck.AppendAsync(BufferTestDatabase.SmallBatch(sizes[i], $"b{i}", first), i + 1, default);
            first += sizes[i];
        }
        Assert.Equal(first, inTail.TailRows);
        Assert.Equal(0, inDuck.TailRows);
        string[] queries =
        [
            "SELECT count(*), sum(n), min(n), max(n) FROM {0}",
            "SELECT sum(n) FROM {0} WHERE level = 'ERROR'", // a projection of two columns out of seven
            "SELECT level, count(*), sum(n) FROM {0} GROUP BY level ORDER BY level",
            "SELECT count(*) FROM {0} WHERE len(tags) = 0",
            "SELECT string_agg(id, ',' ORDER BY n) FROM (SELECT id, n FROM {0} ORDER BY n DESC LIMIT 50)",
            "SELECT min(\"timestamp\"), max(\"timestamp\"), count(DISTINCT \"date\") FROM {0}",
            "SELECT tags[1], count(*) FROM {0} GROUP BY 1 ORDER BY 1 NULLS FIRST",
            "SELECT count(*) FROM {0} a JOIN {0} b ON a.n = b.n + 1", // the same source scanned twice in one query
        ];
        foreach (var query in queries)
            Assert.Equal(Answer(inDuck, query), Answer(inTail, query));
        Assert.Equal(first, inTail.TailRows); // reading moved nothing
    }

    [Fact]
    public async Task Readers_see_each_row_once_while_the_tail_moves_into_DuckDB()
    {
        // A small tail: it moves into DuckDB every ~17 batches while readers count.
        await using var db = BufferTestDatabase.Open(o => o.TailRows = 500);
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        long acknowledged = 0;
        var writing = Task.Run(async () =>
        {
            for (var lsn = 1; lsn <= 400; lsn++)
            {
                await table.AppendAsync(BufferTestDatabase.SmallBatch(30, $"l{lsn}", first: lsn * 1_000L), lsn, default);
                Interlocked.Add(ref acknowledged, 30);
            }
        });
        var reads = 0;
        while (!writing.IsCompleted || reads < 20)
        {
            var before = Interlocked.Read(ref acknowledged);
            using var snapshot = table.OpenSnapshot(-1);
            var after = Interlocked.Read(ref acknowledged);
            var counts = (string)snapshot.QueryScalar($"SELECT count(*) || '/' || count(DISTINCT id) FROM {snapshot.Relation}")!;
            var parts = counts.Split('/').Select(long.Parse).ToArray();
            Assert.Equal(parts[0], parts[1]); // no row twice
            Assert.InRange(parts[0], before, after + 30); // nothing acknowledged before the snapshot is missing
            reads++;
        }
        await writing;
        Assert.True(table.Stats.AppendTransactions >= 20, $"the tail moved only {table.Stats.AppendTransactions} times");
        Assert.Equal(12_000, await BufferTestDatabase.CountAsync(table));
    }

    [Fact]
    public async Task A_closed_snapshots_tail_is_no_longer_readable()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(100), 1, default);
        var closed = table.OpenSnapshot(-1);
        var relation = closed.Relation;
        Assert.Contains("tf_arrow_scan(", relation);
        Assert.Equal(100, closed.CountRows());
        closed.Dispose();
        using var open = table.OpenSnapshot(-1);
        var e = Assert.ThrowsAny<Exception>(() => open.QueryScalar($"SELECT count(*) FROM {relation}"));
        Assert.Contains("snapshot was closed", e.Message);
        Assert.Equal(100, open.CountRows());
    }

    [Fact]
    public async Task Scans_stay_correct_while_the_garbage_collector_compacts()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        long expected = 0;
        for (var lsn = 1; lsn <= 200; lsn++)
        {
            // Small batches: their copies would live in the compacting small-object heap if they were not pinned.
            await table.AppendAsync(BufferTestDatabase.SmallBatch(250, $"g{lsn}", first: lsn * 1_000L), lsn, default);
            expected += Enumerable.Range(0, 250).Sum(i => lsn * 1_000L + i);
        }
        // A few compacting collections while each scan runs (the test process is shared: no endless loop of them).
        for (var i = 0; i < 5; i++)
        {
            var scan = Task.Run(() =>
            {
                using var snapshot = table.OpenSnapshot(-1);
                return (string)snapshot.QueryScalar(
                    $"SELECT sum(n)::VARCHAR || '/' || count(*) FILTER (WHERE id = 'g' || (n // 1000) || '-' || (n % 1000)) FROM {snapshot.Relation}")!;
            });
            for (var c = 0; c < 2 && !scan.IsCompleted; c++)
            {
                _ = new byte[1024]; // something to move
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
            Assert.Equal($"{expected.ToString(CultureInfo.InvariantCulture)}/50000", await scan);
        }
    }

    [Fact]
    public async Task A_flush_writes_the_tail_and_DuckDBs_rows_once_each_and_deletes_them()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(1_000, "duck"), 1, default);
        await table.DrainTailAsync(); // these in DuckDB
        await table.AppendAsync(BufferTestDatabase.SmallBatch(700, "tail", first: 1_000), 2, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(300, "later", first: 2_000), 3, default);
        Assert.Equal(1_000, table.TailRows);
        var files = await table.ExportParquetAsync(upToLsn: 2, dir.Path, default);
        Assert.Equal(1_700, files.Sum(f => f.Rows));
        using (var snapshot = table.OpenSnapshot(-1))
        {
            var paths = string.Join(", ", files.Select(f => "'" + f.LocalPath + "'"));
            Assert.Equal("1700/1700/0/1699", (string)snapshot.QueryScalar(
                $"SELECT count(*) || '/' || count(DISTINCT id) || '/' || min(n) || '/' || max(n) FROM read_parquet([{paths}])")!);
        }
        Assert.Equal(1_700, await table.DeleteUpToAsync(2, default));
        Assert.Equal(300, table.RowCount);
        Assert.Equal(300, table.TailRows);
        Assert.Equal(300, await BufferTestDatabase.CountAsync(table));
    }

    [Fact]
    public async Task Small_batches_are_gathered_into_chunks_that_still_answer_by_LSN()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        for (var lsn = 1; lsn <= 200; lsn++)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(30, $"s{lsn}", first: lsn * 1_000L), lsn, default);
        // 6,000 rows of 30-row batches: two chunks of 69 batches (2,070 rows, the first count past 2,048) and the 62
        // batches since, still waiting to make a third — 64 chunks for the scan, not 200.
        Assert.Equal(2 + 62, table.TailChunks);
        Assert.Equal(6_000, table.TailRows);
        // Above an LSN inside a chunk: a slice of it.
        foreach (var above in new[] { 0, 1, 37, 68, 69, 70, 150, 199, 200 })
        {
            using var snapshot = table.OpenSnapshot(above);
            Assert.Equal($"{(200 - above) * 30}/{(above + 1) * 1_000L}",
                (string)snapshot.QueryScalar($"SELECT count(*) || '/' || coalesce(min(n), {(above + 1) * 1_000L}) FROM {snapshot.Relation}")!);
        }
        // A flush up to an LSN inside a chunk keeps the rest of it.
        Assert.Equal(101 * 30, await table.DeleteUpToAsync(101, default));
        Assert.Equal(99 * 30, table.TailRows);
        Assert.Equal(99 * 30, await BufferTestDatabase.CountAsync(table));
        // Moving into DuckDB keeps each row's LSN: a later delete by LSN removes exactly the rows up to it.
        await table.DrainTailAsync();
        Assert.Equal(0, table.TailRows);
        Assert.Equal(50 * 30, await table.DeleteUpToAsync(151, default));
        using (var rest = table.OpenSnapshot(-1))
            Assert.Equal("1470/152000", (string)rest.QueryScalar($"SELECT count(*) || '/' || min(n) FROM {rest.Relation}")!);
    }

    [Fact]
    public async Task Columns_null_in_every_gathered_batch_become_the_shared_null_column_and_the_others_keep_their_values()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        // 69 batches of 30 rows (2,070 rows: gathered into one chunk): level is null in every row of every batch, tags
        // only in the even batches' rows.
        for (var lsn = 1; lsn <= 69; lsn++)
        {
            var (b, first) = (lsn, lsn * 1_000L);
            var batch = ArrowTestData.Build(BufferTestDatabase.SmallSchema, 30, (c, i) => c.Name switch
            {
                "timestamp" => ArrowTestData.BaseTime.AddSeconds(i),
                "date" => DateOnly.FromDateTime(ArrowTestData.BaseTime.AddSeconds(i).UtcDateTime),
                "id" => $"g{b}-{i}",
                "level" => null,
                "n" => first + i,
                "tags" => b % 2 == 0 ? null : new string?[] { "t" + (i % 5) },
                "project_id" => "p1",
                _ => throw new InvalidOperationException(c.Name),
            });
            await table.AppendAsync(batch, lsn, default);
        }
        var chunk = Assert.Single(table.TailBatches);
        Assert.Equal(2_070, chunk.Length);
        var level = chunk.Column("level");
        Assert.Equal(2_070, level.NullCount);
        Assert.All(level.Data.Buffers.Where(b => !b.Memory.IsEmpty), b => Assert.True(TimeFusion.Ingest.NullColumns.IsSharedZeros(b.Memory)));
        Assert.False(TimeFusion.Ingest.NullColumns.IsSharedZeros(chunk.Column("tags").Data.Buffers[1].Memory));
        Assert.Equal("2070/0/1050/34/1000/69029", Answer(table,
            "SELECT count(*) || '/' || count(level) || '/' || count(tags) || '/' || count(DISTINCT n // 1000) FILTER (WHERE tags IS NULL) || '/' || min(n) || '/' || max(n) FROM {0}"));
        Assert.Equal("t0|210\nt1|210\nt2|210\nt3|210\nt4|210", Answer(table,
            "SELECT tags[1], count(*) FROM {0} WHERE tags IS NOT NULL GROUP BY 1 ORDER BY 1"));
    }

    private static string Answer(BufferTable table, string query)
    {
        using var snapshot = table.OpenSnapshot(-1);
        using var command = snapshot.Connection.CreateCommand();
        command.CommandText = string.Format(CultureInfo.InvariantCulture, query, snapshot.Relation);
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        return string.Join("\n", rows);
    }
}
