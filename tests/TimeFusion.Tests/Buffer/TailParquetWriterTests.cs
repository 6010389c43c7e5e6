using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Flush;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// The flush's export of ordered tail rows through ParquetSharp's Arrow writer (<see cref="TailParquetWriter"/>) against
/// DuckDB's COPY of the same rows: the same files per date, the same rows in the same order, the same Parquet column
/// types, row groups of at most 122,880 rows, and the same Delta statistics.
/// </summary>
public sealed partial class TailParquetWriterTests : IDisposable
{
    private readonly List<IDisposable> _cleanup = [];

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var d in _cleanup)
            d.Dispose();
    }

    private static readonly TableId Id = new("p1", "t");
    private static readonly DateTimeOffset Start = new(2024, 3, 5, 23, 0, 0, TimeSpan.Zero);

    /// <summary>A user table with one column of every type, nullable and not.</summary>
    private static readonly TableSchema EveryType = TableSchema.Create("every",
    [
        new ColumnDefinition("id", ColumnType.Utf8, Nullable: false),
        new ColumnDefinition("s", ColumnType.Utf8),
        new ColumnDefinition("j", ColumnType.Json),
        new ColumnDefinition("b", ColumnType.Boolean),
        new ColumnDefinition("i32", ColumnType.Int32),
        new ColumnDefinition("i64", ColumnType.Int64, Nullable: false),
        new ColumnDefinition("f", ColumnType.Float64),
        new ColumnDefinition("at", ColumnType.TimestampUs),
        new ColumnDefinition("d", ColumnType.Date),
        new ColumnDefinition("tags", ColumnType.Utf8List),
        new ColumnDefinition("blob", ColumnType.Binary),
        new ColumnDefinition("all_null", ColumnType.Utf8),
        new ColumnDefinition("flags", ColumnType.Boolean),
    ]);

    [Fact]
    public async Task Otel_rows_over_several_dates_with_nulls_match_DuckDBs_export()
    {
        var schema = OtelLogsAndSpans.Schema;
        // Three dates: rows 12.3 s apart from 23:00, 3 batches of 4,000 (about 41 hours).
        var batches = Enumerable.Range(0, 3).Select(k => Build(schema, 4_000, k * 4_000, (c, r) => c.Name switch
        {
            "timestamp" => Start.AddSeconds(12.3 * r),
            "date" => DateOnly.FromDateTime(Start.AddSeconds(12.3 * r).UtcDateTime),
            _ => ArrowTestData.OtelValue(c, r),
        })).ToList();
        var (arrow, duck) = await ExportBothAsync(schema, batches);
        Assert.Equal(3, arrow.Count);
        AssertSameFiles(schema, arrow, duck, "id");
    }

    [Fact]
    public async Task Every_column_type_of_a_user_table_matches_DuckDBs_export()
    {
        var batches = Enumerable.Range(0, 2).Select(k => Build(EveryType, 3_000, k * 3_000, EveryTypeValue)).ToList();
        var (arrow, duck) = await ExportBothAsync(EveryType, batches);
        Assert.Equal(4, arrow.Count); // 61.6 hours from 23:00
        AssertSameFiles(EveryType, arrow, duck, "i64");
        // An all-null column: a null count and no bounds, as DuckDB gives; written uncompressed (AssertSameFiles).
        Assert.Equal(new ColumnStats(arrow[0].Rows, null, null), arrow[0].Stats["all_null"]);
        Assert.Contains(("all_null", "UNCOMPRESSED"), Compressions(arrow[0].LocalPath));
    }

    [Fact]
    public async Task Batches_arriving_out_of_order_are_written_in_timestamp_order()
    {
        // Batches of concurrent writers: each in order, logged in a shuffled order, rearranged by their facts.
        var batches = new[] { 2, 0, 3, 1 }.Select(k => Build(EveryType, 2_500, k * 2_500, EveryTypeValue)).ToList();
        var (arrow, duck) = await ExportBothAsync(EveryType, batches);
        AssertSameFiles(EveryType, arrow, duck, "i64");
        AssertOrdered(arrow, "i64");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Rows_out_of_order_within_a_batch_are_written_sorted(bool sortWithArrow)
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, EveryType, default);
        table.SortTailWithArrow = sortWithArrow;
        // Row r at Start + 37·((r·7919) mod 5000) s: out of order within the batch.
        await table.AppendAsync(Build(EveryType, 5_000, 0, (c, r) => EveryTypeValue(c, r * 7_919 % 5_000)), 1, default);

        var files = await table.ExportParquetAsync(1, dir.Path, default);

        // Gathered in timestamp order for the Arrow writer, or sorted by DuckDB when that is off.
        Assert.Equal(sortWithArrow, table.LastExportUsedArrowWriter);
        Assert.True(table.LastExportSorted);
        Assert.Equal(5_000, files.Sum(f => f.Rows));
        AssertOrdered(files, "i64");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_date_with_more_rows_than_a_row_group_is_split_into_row_groups_of_122880(int writers)
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        // 130,000 rows 0.5 s apart from midnight, one date, 10,000 at a time: from one writer in order, or from two
        // (rows k with k % 2 = w) whose batches of 5,000 overlap in time, so that the export sorts them.
        var midnight = new DateTimeOffset(2024, 3, 5, 0, 0, 0, TimeSpan.Zero);
        long lsn = 0;
        for (var first = 0; first < 130_000; first += 10_000)
            for (var w = writers - 1; w >= 0; w--)
            {
                var (start, step) = (first + w, writers);
                await table.AppendAsync(ArrowTestData.Build(BufferTestDatabase.SmallSchema, 10_000 / writers, (c, i) => c.Name switch
                {
                    "timestamp" => midnight.AddMilliseconds(500.0 * (start + step * i)),
                    "date" => new DateOnly(2024, 3, 5),
                    "id" => $"r-{start + step * i}",
                    "n" => (long)(start + step * i),
                    "project_id" => "p1",
                    _ => null,
                }), ++lsn, default);
            }

        var files = await table.ExportParquetAsync(lsn, dir.Path, default);

        Assert.True(table.LastExportUsedArrowWriter);
        Assert.Equal(writers > 1, table.LastExportSorted);
        var file = Assert.Single(files);
        Assert.Equal(130_000, file.Rows);
        Assert.Equal(new long[] { 122_880, 7_120 }, RowGroups(file.LocalPath));
        Assert.Equal(0L, file.Stats["n"].Min);
        Assert.Equal(129_999L, file.Stats["n"].Max);
        Assert.Equal(Enumerable.Range(0, 130_000).Select(n => (long)n),
            Query(file.LocalPath, $"SELECT n FROM read_parquet({SqlNames.Literal(file.LocalPath)})", r => r.GetInt64(0)));
    }

    [Fact]
    public void Nearly_unique_columns_are_written_without_a_dictionary_and_read_back_the_same()
    {
        // ids and timestamps all distinct, the project one value: plain pages for the first, a dictionary for the last;
        // with the option off every column keeps its dictionary; DuckDB reads the same rows and statistics from both.
        var batches = Enumerable.Range(0, 2).Select(k => Build(EveryType, 2_000, k * 2_000, EveryTypeValue)).ToList();
        using var plainDir = new TempDirectory();
        using var dictDir = new TempDirectory();
        var plain = TailParquetWriter.Write(batches, EveryType, plainDir.Path, 32, useThreads: false, CancellationToken.None);
        List<ExportedFile> dict;
        TailParquetWriter.PlainNearlyUnique = false;
        try
        {
            dict = TailParquetWriter.Write(batches, EveryType, dictDir.Path, 32, useThreads: false, CancellationToken.None);
        }
        finally
        {
            TailParquetWriter.PlainNearlyUnique = true;
        }

        Assert.False(HasDictionary(plain[0].LocalPath, "id"));
        Assert.False(HasDictionary(plain[0].LocalPath, "timestamp"));
        Assert.True(HasDictionary(plain[0].LocalPath, "project_id"));
        Assert.True(HasDictionary(dict[0].LocalPath, "id"));
        Assert.True(HasDictionary(dict[0].LocalPath, "timestamp"));
        Assert.Equal(dict.Count, plain.Count);
        for (var i = 0; i < plain.Count; i++)
        {
            Assert.Equal(Rows(dict[i].LocalPath, "i64"), Rows(plain[i].LocalPath, "i64"));
            Assert.Equal(dict[i].Stats, plain[i].Stats);
        }
    }

    private static bool HasDictionary(string path, string column) =>
        Query(path, $"SELECT bool_or(dictionary_page_offset IS NOT NULL) FROM parquet_metadata({SqlNames.Literal(path)}) WHERE path_in_schema = {SqlNames.Literal(column)}",
            r => r.GetBoolean(0)).Single();

    [Fact]
    public void A_write_cancelled_half_way_leaves_no_file()
    {
        using var dir = new TempDirectory();
        using var cancel = new CancellationTokenSource();
        // Two batches of different dates: the first date's file is being written when the second batch cancels.
        var batches = new CancellingList([Build(EveryType, 100, 0, EveryTypeValue), Build(EveryType, 100, 5_000, EveryTypeValue)], cancel);

        Assert.ThrowsAny<OperationCanceledException>(() => TailParquetWriter.Write(batches, EveryType, dir.Path, 32, useThreads: true, cancel.Token));

        Assert.True(batches.SecondTaken);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public void Statistics_order_text_as_UTF8_bytes_truncate_it_and_leave_out_timestamps_beyond_year_9999()
    {
        var text = new ArrowColumnStatistics(ColumnType.Utf8, 4);
        text.Add(new StringArray.Builder().Append("a").Append("é").AppendNull().Append("Z").Append("ü-long-value").Build());
        // UTF-8 bytes: "Z" (0x5A) < "a" (0x61) < "é" (0xC3 0xA9) < "ü" (0xC3 0xBC); the max is truncated to 4 code points.
        Assert.Equal(new ColumnStats(1, "Z", "ü-lo\U0010FFFF"), text.Result());

        var type = new Apache.Arrow.Types.TimestampType(Apache.Arrow.Types.TimeUnit.Microsecond, "UTC");
        var values = new ArrowBuffer.Builder<long>().Append(0).Append(long.MaxValue / 2).Build();
        var times = new ArrowColumnStatistics(ColumnType.TimestampUs, 32);
        times.Add(new TimestampArray(new ArrayData(type, 2, 0, 0, [ArrowBuffer.Empty, values])));
        Assert.Equal(new ColumnStats(0, "1970-01-01T00:00:00.000000Z", null), times.Result());
    }

    /// <summary>Batches that cancel the token when the second one is taken.</summary>
    private sealed class CancellingList(RecordBatch[] batches, CancellationTokenSource cancel) : IReadOnlyList<RecordBatch>
    {
        public bool SecondTaken { get; private set; }

        public RecordBatch this[int index] => Take(index);

        public int Count => batches.Length;

        public IEnumerator<RecordBatch> GetEnumerator()
        {
            for (var i = 0; i < batches.Length; i++)
                yield return Take(i);
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        private RecordBatch Take(int index)
        {
            if (index == 1)
            {
                SecondTaken = true;
                cancel.Cancel();
            }
            return batches[index];
        }
    }

    /// <summary>Values of <see cref="EveryType"/> for row r: i64 = r (ordering), a timestamp 37 s per row from 23:00 (crossing midnight).</summary>
    private static object? EveryTypeValue(ColumnDefinition column, int r)
    {
        var at = Start.AddSeconds(37.0 * r);
        return column.Name switch
        {
            "timestamp" => at,
            "date" => DateOnly.FromDateTime(at.UtcDateTime),
            "project_id" => "p1",
            "id" => $"id-{r:D6}",
            "i64" => (long)r,
            "all_null" => null,
            "flags" => r % 11 == 0 ? null : true, // never false: min true
            "blob" => r % 5 == 0 ? null : new byte[] { (byte)r, (byte)(r >> 8), 0, 255 },
            _ => ArrowTestData.OtelValue(column, r),
        };
    }

    /// <summary>A batch of rows first … first+rows-1 of <paramref name="schema"/>; timestamps and dates from <see cref="ArrowTestData.OtelValue"/> unless given.</summary>
    private static RecordBatch Build(TableSchema schema, int rows, int first, Func<ColumnDefinition, int, object?> value)
    {
        var arrays = new List<IArrowArray>();
        foreach (var column in schema.Columns)
        {
            if (column.Type == ColumnType.Binary)
            {
                var b = new BinaryArray.Builder();
                for (var i = 0; i < rows; i++)
                {
                    if (value(column, first + i) is byte[] bytes)
                        b.Append(bytes.AsSpan());
                    else
                        b.AppendNull();
                }
                arrays.Add(b.Build());
                continue;
            }
            arrays.Add(ArrowTestData.BuildColumn(column.Type, rows, i => value(column, first + i)));
        }
        return new RecordBatch(schema.ToArrowSchema(), arrays, rows);
    }

    /// <summary>
    /// The same batches exported by two tables, one through the Arrow writer, one through DuckDB's COPY (which writes
    /// every column); the Arrow writer leaves out the columns null in every row with <paramref name="omitNullColumns"/>.
    /// </summary>
    private async Task<(IReadOnlyList<ExportedFile> Arrow, IReadOnlyList<ExportedFile> Duck)> ExportBothAsync(TableSchema schema, IReadOnlyList<RecordBatch> batches,
        bool omitNullColumns = false)
    {
        var arrowDir = new TempDirectory();
        var duckDir = new TempDirectory();
        _cleanup.Add(arrowDir);
        _cleanup.Add(duckDir);
        await using var db = BufferTestDatabase.Open(o => o.OmitNullColumns = omitNullColumns);
        await using var arrowTable = await BufferTable.CreateAsync(db, Id, schema, default);
        await using var duckTable = await BufferTable.CreateAsync(db, new TableId("p1", "t2"), schema, default);
        duckTable.UseArrowWriter = false;
        long lsn = 0;
        foreach (var batch in batches)
        {
            lsn++;
            await arrowTable.AppendAsync(batch, lsn, default);
            await duckTable.AppendAsync(batch, lsn, default);
        }
        var arrow = await arrowTable.ExportParquetAsync(lsn, arrowDir.Path, default);
        Assert.True(arrowTable.LastExportUsedArrowWriter);
        var duck = await duckTable.ExportParquetAsync(lsn, duckDir.Path, default);
        Assert.False(duckTable.LastExportUsedArrowWriter);
        Assert.Equal(batches.Sum(b => (long)b.Length), arrow.Sum(f => f.Rows));
        return (arrow, duck);
    }

    private static void AssertSameFiles(TableSchema schema, IReadOnlyList<ExportedFile> arrow, IReadOnlyList<ExportedFile> duck, string orderColumn)
    {
        Assert.Equal(duck.Select(f => f.Date), arrow.Select(f => f.Date));
        var now = DateTimeOffset.UnixEpoch;
        for (var i = 0; i < arrow.Count; i++)
        {
            var (a, d) = (arrow[i], duck[i]);
            Assert.Equal(d.Rows, a.Rows);
            Assert.EndsWith(".zstd.parquet", a.RelativePath);
            Assert.StartsWith($"date={a.Date:yyyy-MM-dd}/", a.RelativePath);
            Assert.Equal(new FileInfo(a.LocalPath).Length, a.Bytes);
            // The same rows in the same order, read by DuckDB.
            Assert.Equal(Rows(d.LocalPath, orderColumn), Rows(a.LocalPath, orderColumn));
            // The same Parquet column types and compression. DuckDB marks text with the UTF8 converted type alone, the
            // Arrow writer adds the STRING logical type (its modern spelling): logical types compared where DuckDB gives one.
            // DuckDB also annotates integers with their (default) signed width; a plain INT32/INT64 reads the same.
            var (duckTypes, arrowTypes) = (ParquetSchema(d.LocalPath).Select(PlainIntegers).ToList(), ParquetSchema(a.LocalPath).Select(PlainIntegers).ToList());
            Assert.Equal(duckTypes.Select(t => string.Join(" ", t[..4])), arrowTypes.Select(t => string.Join(" ", t[..4])));
            Assert.Equal(duckTypes.Select(t => t[4]), duckTypes.Zip(arrowTypes, (x, y) => x[4] == "∅" ? "∅" : y[4]));
            // zstd, except columns null in every row written (nothing to compress): uncompressed.
            foreach (var (column, compression) in Compressions(a.LocalPath))
                if (compression != "ZSTD")
                    Assert.True(compression == "UNCOMPRESSED" && a.Stats[column].NullCount == a.Rows, $"{column}: {compression}");
            Assert.All(RowGroups(a.LocalPath), n => Assert.InRange(n, 1, TailParquetWriter.RowGroupRows));
            // The same Delta statistics.
            Assert.Equal(StatsText(DeltaAddForExport.Create(d, schema, now).GetStats()!), StatsText(DeltaAddForExport.Create(a, schema, now).GetStats()!));
        }
    }

    private static void AssertOrdered(IReadOnlyList<ExportedFile> files, string orderColumn)
    {
        foreach (var file in files)
        {
            var values = Query(file.LocalPath, $"SELECT {orderColumn}, epoch_us(timestamp) FROM read_parquet({SqlNames.Literal(file.LocalPath)})",
                r => (r.GetInt64(0), r.GetInt64(1)));
            for (var i = 1; i < values.Count; i++)
                Assert.True(values[i].Item2 >= values[i - 1].Item2, $"row {i} of {file.RelativePath} is out of timestamp order");
        }
    }

    private static string StatsText(DeltaFileStats stats)
    {
        static string Show(IReadOnlyDictionary<string, DeltaStatValue> values) =>
            string.Join("; ", values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value.Kind}:{kv.Value.Text}:{(kv.Value.TryGetBoolean(out var b) ? b : "")}"));
        return $"rows={stats.NumRecords}\nmin: {Show(stats.MinValues)}\nmax: {Show(stats.MaxValues)}\nnulls: {Show(stats.NullCount)}";
    }

    private static List<string> Rows(string path, string orderColumn) =>
        Query(path, $"SELECT * FROM read_parquet({SqlNames.Literal(path)})", r =>
        {
            var cells = new string[r.FieldCount];
            for (var c = 0; c < cells.Length; c++)
                cells[c] = r.IsDBNull(c) ? "∅" : Cell(r.GetValue(c));
            return string.Join(" | ", cells);
        });

    private static string Cell(object value) => value switch
    {
        System.Collections.IEnumerable e and not string => "[" + string.Join(",", e.Cast<object?>().Select(x => x?.ToString() ?? "∅")) + "]",
        Stream s => Convert.ToHexString(ReadAll(s)),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    private static byte[] ReadAll(Stream s)
    {
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    private static string[] PlainIntegers(string[] t) =>
        (t[1], t[3]) is ("INT32", "INT_32") or ("INT64", "INT_64") ? [t[0], t[1], t[2], "∅", "∅"] : t;

    private static List<string[]> ParquetSchema(string path) =>
        Query(path, $"SELECT name, type, repetition_type, converted_type, logical_type FROM parquet_schema({SqlNames.Literal(path)}) WHERE name <> 'duckdb_schema' AND name <> 'schema'",
            r => Enumerable.Range(0, r.FieldCount).Select(c => r.IsDBNull(c) ? "∅" : r.GetValue(c)!.ToString()!).ToArray());

    private static List<(string Column, string Compression)> Compressions(string path) =>
        Query(path, $"SELECT DISTINCT path_in_schema, compression FROM parquet_metadata({SqlNames.Literal(path)})", r => (r.GetString(0).Split('.')[0], r.GetString(1)));

    private static List<long> RowGroups(string path) =>
        Query(path, $"SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata({SqlNames.Literal(path)}) ORDER BY 1", r => r.GetInt64(1));

    private static List<T> Query<T>(string path, string sql, Func<DuckDBDataReader, T> read)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var result = new List<T>();
        while (reader.Read())
            result.Add(read(reader));
        return result;
    }
}
