using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

public class BufferExportTests
{
    private static readonly TableId Id = new("p1", "small");

    [Fact]
    public async Task Export_writes_one_sorted_file_per_date_with_correct_rows_and_stats()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        var day1 = new DateTimeOffset(2024, 3, 5, 23, 59, 0, TimeSpan.Zero).AddTicks(12_340); // 1.234 ms
        // lsn 1: 100 rows spanning midnight (60 on day 1, 40 on day 2); lsn 2: 50 rows on day 2, appended in reverse time order.
        await table.AppendAsync(BufferTestDatabase.SmallBatch(100, "a", first: 0, start: day1), 1, default);
        var lateStart = day1.AddHours(1);
        var reversed = ArrowTestData.Build(BufferTestDatabase.SmallSchema, 50, (c, i) => c.Name switch
        {
            "timestamp" => lateStart.AddSeconds(49 - i),
            "date" => DateOnly.FromDateTime(lateStart.UtcDateTime),
            "id" => $"b-{49 - i}",
            "level" => "INFO",
            "n" => 1049L - i,
            "tags" => new string?[] { "x" },
            "project_id" => "p1",
            _ => null,
        });
        await table.AppendAsync(reversed, 2, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(30, "c", first: 5000, start: day1.AddDays(3)), 3, default);

        var files = await table.ExportParquetAsync(upToLsn: 2, dir.Path, default);

        Assert.Equal(2, files.Count);
        var f1 = files[0];
        var f2 = files[1];
        Assert.Equal(new DateOnly(2024, 3, 5), f1.Date);
        Assert.Equal(new DateOnly(2024, 3, 6), f2.Date);
        Assert.Equal(60, f1.Rows);
        Assert.Equal(90, f2.Rows);
        foreach (var f in files)
        {
            Assert.StartsWith($"date={f.Date:yyyy-MM-dd}/part-", f.RelativePath);
            Assert.Equal(Path.Combine(dir.Path, f.RelativePath), f.LocalPath);
            Assert.Equal(new FileInfo(f.LocalPath).Length, f.Bytes);
        }

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using (var cmd = duck.CreateCommand())
        {
            cmd.CommandText = "SET TimeZone = 'UTC'";
            cmd.ExecuteNonQuery();
        }
        List<object?[]> Read(string sql)
        {
            using var cmd = duck.CreateCommand();
            cmd.CommandText = sql;
            using var reader = cmd.ExecuteReader();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                rows.Add(row);
            }
            return rows;
        }

        // No partition column and no _lsn in the files; the table's other columns in order (the root's name is the writer's).
        var columns = Read($"SELECT name FROM parquet_schema('{f2.LocalPath}') WHERE name NOT IN ('duckdb_schema', 'schema', 'list', 'element')").Select(r => (string)r[0]!).ToList();
        Assert.Equal(["timestamp", "id", "level", "n", "tags", "project_id"], columns);

        // Day 2 holds the 40 last rows of lsn 1 and all of lsn 2, sorted by timestamp.
        var day2 = Read($"SELECT id, n FROM read_parquet('{f2.LocalPath}')");
        var expected = Enumerable.Range(60, 40).Select(i => $"a-{i}").ToList();
        // lsn 2 starts one hour after day1 (00:59 on day 2): after every row of lsn 1.
        expected.AddRange(Enumerable.Range(0, 50).Select(i => $"b-{i}"));
        Assert.Equal(expected, day2.Select(r => (string)r[0]!).ToList());
        Assert.Equal(90L, Read($"SELECT count(*) FROM read_parquet('{f2.LocalPath}') WHERE timestamp >= TIMESTAMPTZ '2024-03-06 00:00:00+00'")[0][0]);

        // Stats match what DuckDB computes over the file.
        var s = f1.Stats;
        Assert.Equal("2024-03-05T23:59:00.001234Z", s["timestamp"].Min);
        Assert.Equal("2024-03-05T23:59:59.001234Z", s["timestamp"].Max);
        Assert.Equal(0L, s["timestamp"].NullCount);
        Assert.Equal(0L, s["n"].Min);
        Assert.Equal(59L, s["n"].Max);
        Assert.Equal("a-0", s["id"].Min);
        Assert.Equal("a-9", s["id"].Max);
        Assert.Equal("ERROR", s["level"].Min);
        Assert.Equal("INFO", s["level"].Max);
        // Parquet's counts for a list column are about its elements, not the lists: no stats rather than wrong ones.
        // (DuckDB's statistics leave the column out, the Arrow writer's say nothing about it.)
        Assert.True(!s.TryGetValue("tags", out var tags) || tags == new ColumnStats(null, null, null), $"tags: {tags}");
        Assert.False(s.ContainsKey("date"));
        Assert.False(s.ContainsKey("_lsn"));
        Assert.Equal(1049L, f2.Stats["n"].Max);
        Assert.Equal("2024-03-06T00:59:49.001234Z", f2.Stats["timestamp"].Max);

        // Nothing is deleted by the export; deleting up to the LSN afterwards leaves only lsn 3.
        Assert.Equal(180, table.RowCount);
        var reservedBefore = table.ReservedBytes;
        Assert.Equal(150, await table.DeleteUpToAsync(2, default));
        Assert.Equal(30, table.RowCount);
        Assert.Equal(30, await BufferTestDatabase.CountAsync(table));
        Assert.True(table.ReservedBytes < reservedBefore / 3, $"{table.ReservedBytes} of {reservedBefore} still reserved");
        await db.WhenBackgroundCheckpointsIdle();
        Assert.Null(db.LastBackgroundError);

        // An export with nothing to write writes nothing.
        Assert.Empty(await table.ExportParquetAsync(upToLsn: 2, dir.Path, default));
    }

    [Fact]
    public async Task Exported_otel_rows_read_back_equal()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        var schema = OtelLogsAndSpans.Schema;
        await using var table = await BufferTable.CreateAsync(db, new TableId("p", schema.Name), schema, default);
        using var batch = ArrowTestData.Build(schema, 2_000, (c, i) => ArrowTestData.OtelValue(c, i));
        await table.AppendAsync(batch, 1, default);
        var files = await table.ExportParquetAsync(1, dir.Path, default);
        Assert.Equal(2_000, files.Sum(f => f.Rows));

        // Read the files back through a snapshot's connection (read_parquet) and compare with the buffer.
        using var snapshot = table.OpenSnapshot(0);
        var cols = string.Join(", ", schema.Columns.Where(c => c.Name != "date").Select(c => SqlNames.Quote(c.Name)));
        var list = string.Join(", ", files.Select(f => SqlNames.Literal(f.LocalPath)));
        Assert.Equal(0L, snapshot.QueryScalar(
            $"SELECT count(*) FROM ((SELECT {cols} FROM {snapshot.Relation} EXCEPT ALL SELECT {cols} FROM read_parquet([{list}])) " +
            $"UNION ALL (SELECT {cols} FROM read_parquet([{list}]) EXCEPT ALL SELECT {cols} FROM {snapshot.Relation}))"));
        foreach (var f in files)
        {
            var rows = Convert.ToInt64(snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE date = DATE '{f.Date:yyyy-MM-dd}'"));
            Assert.Equal(rows, f.Rows);
            var nulls = Convert.ToInt64(snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE date = DATE '{f.Date:yyyy-MM-dd}' AND attributes___client___port IS NULL"));
            Assert.Equal(nulls, f.Stats["attributes___client___port"].NullCount);
            var min = Convert.ToInt64(snapshot.QueryScalar($"SELECT min(attributes___client___port) FROM {snapshot.Relation} WHERE date = DATE '{f.Date:yyyy-MM-dd}'"));
            Assert.Equal(min, f.Stats["attributes___client___port"].Min);
            var maxBody = (string)snapshot.QueryScalar($"SELECT max(body) FROM {snapshot.Relation} WHERE date = DATE '{f.Date:yyyy-MM-dd}'")!;
            var statMax = (string)f.Stats["body"].Max!;
            Assert.True(string.CompareOrdinal(statMax, maxBody) >= 0 || statMax.EndsWith("\U0010FFFF", StringComparison.Ordinal), $"{statMax} < {maxBody}");
        }
    }
}
