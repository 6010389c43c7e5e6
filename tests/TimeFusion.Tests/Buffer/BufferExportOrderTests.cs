using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// The export's shortcuts: rows the tail knows are in timestamp order are written unsorted, the tail's tracked dates
/// replace the DISTINCT pass. Whatever path it takes, each file holds its date's rows, all of them, in timestamp order.
/// </summary>
public class BufferExportOrderTests
{
    private static readonly TableId Id = new("p1", "small");
    private static readonly DateTimeOffset Start = new(2024, 3, 5, 22, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Many_rows_in_order_scanned_on_several_threads_keep_their_order()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        // 40 scan slices of 2,048 rows, one date (a row a second from midnight): DuckDB scans them on every core it may
        // use, and the file must still be in order.
        long lsn = 0, row = 0;
        for (var i = 0; i < 10; i++, row += 8_192)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(8_192, "r", first: row, start: Start.AddHours(2).AddSeconds(row)), ++lsn, default);

        var files = await table.ExportParquetAsync(lsn, dir.Path, default);

        Assert.False(table.LastExportSorted);
        Assert.Single(files);
        AssertFileHolds(files[0], 0, row);
    }

    [Fact]
    public async Task Rows_in_order_are_written_unsorted_in_order_one_file_per_date()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        // Small batches (gathered into 2,048-row chunks) then big ones: 3 hours at one row per second, over midnight,
        // many scan slices — DuckDB may scan them on several threads, and must keep their order.
        long lsn = 0, row = 0;
        for (var i = 0; i < 40; i++, row += 100)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(100, "r", first: row, start: Start.AddSeconds(row)), ++lsn, default);
        for (var i = 0; i < 2; i++, row += 4_000)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(4_000, "r", first: row, start: Start.AddSeconds(row)), ++lsn, default);
        for (var i = 0; i < 2; i++, row += 500)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(500, "r", first: row, start: Start.AddSeconds(row)), ++lsn, default);

        var files = await table.ExportParquetAsync(lsn, dir.Path, default);

        Assert.False(table.LastExportSorted);
        Assert.Equal([new DateOnly(2024, 3, 5), new DateOnly(2024, 3, 6)], files.Select(f => f.Date).ToList());
        Assert.Equal(7_200, files[0].Rows); // 22:00 to midnight
        Assert.Equal(row - 7_200, files[1].Rows);
        AssertFileHolds(files[0], 0, 7_200);
        AssertFileHolds(files[1], 7_200, row);
    }

    [Fact]
    public async Task Batches_of_concurrent_writers_arriving_out_of_order_are_written_in_timestamp_order_unsorted()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        // Ten 2,500-row batches, each in order and covering its own span of time, logged in a shuffled order, then
        // small ones in order (gathered into one chunk: small batches are gathered in LSN order, so only batches of
        // at least a chunk can be rearranged).
        long lsn = 0;
        foreach (var k in new[] { 3, 0, 7, 1, 9, 2, 8, 4, 6, 5 })
            await table.AppendAsync(BufferTestDatabase.SmallBatch(2_500, "r", first: k * 2_500, start: Start.AddSeconds(k * 2_500)), ++lsn, default);
        foreach (var k in new[] { 0, 1, 2 })
            await table.AppendAsync(BufferTestDatabase.SmallBatch(100, "r", first: 25_000 + k * 100, start: Start.AddSeconds(25_000 + k * 100)), ++lsn, default);

        var files = await table.ExportParquetAsync(lsn, dir.Path, default);

        Assert.False(table.LastExportSorted);
        Assert.Equal(2, files.Count);
        AssertFileHolds(files[0], 0, 7_200);
        AssertFileHolds(files[1], 7_200, 25_300);
    }

    [Fact]
    public async Task Ordered_batches_that_overlap_are_sorted_within_each_file()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        // Two sources, each in order, interleaved in time: batch 2 starts before batch 1 ends; both cross midnight.
        await table.AppendAsync(Batch(3_000, i => Start.AddHours(2).AddSeconds(-1_500 + 2 * i), i => 2 * i), 1, default);
        await table.AppendAsync(Batch(3_000, i => Start.AddHours(2).AddSeconds(-1_500 + 2 * i + 1), i => 2 * i + 1), 2, default);

        var files = await table.ExportParquetAsync(2, dir.Path, default);

        Assert.True(table.LastExportSorted);
        Assert.Equal(2, files.Count);
        AssertFileHolds(files[0], 0, 1_500);
        AssertFileHolds(files[1], 1_500, 6_000);
    }

    [Fact]
    public async Task A_date_the_retention_filter_empties_gets_no_file()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(10_000, "r", first: 0, start: Start), 1, default);
        var midnight = new DateTimeOffset(2024, 3, 6, 0, 0, 0, TimeSpan.Zero);

        var files = await table.ExportParquetAsync(1, dir.Path, default, TimeFusion.Maintenance.Retention.KeepFilterSql((midnight.UtcTicks - DateTime.UnixEpoch.Ticks) / 10));

        var file = Assert.Single(files);
        Assert.Equal(new DateOnly(2024, 3, 6), file.Date);
        AssertFileHolds(file, 7_200, 10_000);
        Assert.Single(Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Rows_partly_moved_into_DuckDB_are_looked_up_and_sorted()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        // The later rows first, moved into DuckDB's generations; the earlier rows stay in the tail.
        await table.AppendAsync(BufferTestDatabase.SmallBatch(5_000, "r", first: 5_000, start: Start.AddSeconds(5_000)), 1, default);
        await table.DrainTailAsync();
        Assert.Equal(0, table.TailRows);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(5_000, "r", first: 0, start: Start), 2, default);

        var files = await table.ExportParquetAsync(2, dir.Path, default);

        Assert.True(table.LastExportSorted);
        Assert.Equal(2, files.Count);
        AssertFileHolds(files[0], 0, 7_200);
        AssertFileHolds(files[1], 7_200, 10_000);
    }

    /// <summary>The file read by DuckDB holds exactly the rows n = from … to-1, in this order (n follows the timestamp here), and its stats say so.</summary>
    private static void AssertFileHolds(ExportedFile file, long from, long to)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"SELECT n, epoch_us(timestamp) FROM read_parquet({SqlNames.Literal(file.LocalPath)})";
        using var reader = cmd.ExecuteReader();
        var expected = from;
        long previous = long.MinValue;
        while (reader.Read())
        {
            Assert.Equal(expected, reader.GetInt64(0));
            var ts = reader.GetInt64(1);
            Assert.True(ts >= previous, $"row {expected} of {file.RelativePath} is out of timestamp order");
            previous = ts;
            expected++;
        }
        Assert.Equal(to, expected);
        Assert.Equal(to - from, file.Rows);
        Assert.Equal(from, file.Stats["n"].Min);
        Assert.Equal(to - 1, file.Stats["n"].Max);
    }

    /// <summary>Rows with n = <paramref name="n"/>(i), ids <c>r-{n}</c>, at <paramref name="at"/>(i).</summary>
    private static Apache.Arrow.RecordBatch Batch(int rows, Func<int, DateTimeOffset> at, Func<int, long> n) =>
        ArrowTestData.Build(BufferTestDatabase.SmallSchema, rows, (c, i) => c.Name switch
        {
            "timestamp" => at(i),
            "date" => DateOnly.FromDateTime(at(i).UtcDateTime),
            "id" => $"r-{n(i)}",
            "n" => n(i),
            "project_id" => "p1",
            _ => null,
        });
}
