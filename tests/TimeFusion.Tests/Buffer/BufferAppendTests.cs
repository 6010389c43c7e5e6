using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

public class BufferAppendTests
{
    private static readonly TableId Id = new("p1", "small");

    [Fact]
    public async Task Every_otel_column_type_round_trips_unchanged()
    {
        await using var db = BufferTestDatabase.Open();
        var schema = OtelLogsAndSpans.Schema;
        await using var table = await BufferTable.CreateAsync(db, new TableId("p1", schema.Name), schema, CancellationToken.None);
        const int rows = 3_000;
        using var batch = ArrowTestData.Build(schema, rows, (c, i) => ArrowTestData.OtelValue(c, i));
        await table.AppendAsync(batch, lsn: 1, CancellationToken.None);
        Assert.Equal(rows, table.RowCount);

        using var snapshot = table.OpenSnapshot(aboveLsn: 0);
        using var result = snapshot.QueryArrow($"SELECT * FROM {snapshot.Relation} ORDER BY id");
        // Types come back as the table's canonical Arrow types.
        var expectedSchema = schema.ToArrowSchema();
        Assert.Equal(expectedSchema.FieldsList.Count, result.Schema.FieldsList.Count);
        for (var i = 0; i < expectedSchema.FieldsList.Count; i++)
        {
            Assert.Equal(expectedSchema.FieldsList[i].Name, result.Schema.FieldsList[i].Name);
            Assert.Equal(TypeText(expectedSchema.FieldsList[i].DataType), TypeText(result.Schema.FieldsList[i].DataType));
        }
        var back = result.ReadAll().ToList();
        ArrowTestData.AssertRowsEqual(ArrowTestData.Rows(batch), ArrowTestData.Rows(back), schema.Columns.Select(c => c.Name).ToList());
        foreach (var b in back)
            b.Dispose();
    }

    private static string TypeText(IArrowType type) => type switch
    {
        TimestampType t => $"timestamp[{t.Unit},{t.Timezone}]",
        ListType l => $"list<{TypeText(l.ValueDataType)}>",
        _ => type.Name,
    };

    [Fact]
    public async Task A_batch_larger_than_one_chunk_keeps_its_order_and_values()
    {
        await using var db = BufferTestDatabase.Open(o => o.RowsPerChunk = 1000);
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, CancellationToken.None);
        using var batch = BufferTestDatabase.SmallBatch(4_321);
        await table.AppendAsync(batch, 7, CancellationToken.None);
        using var snapshot = table.OpenSnapshot(-1);
        using var result = snapshot.QueryArrow($"SELECT * FROM {snapshot.Relation} ORDER BY n");
        ArrowTestData.AssertRowsEqual(ArrowTestData.Rows(batch), ArrowTestData.Rows(result.ReadAll()), BufferTestDatabase.SmallSchema.Columns.Select(c => c.Name).ToList());
        // Every row carries LSN 7.
        using (var above6 = table.OpenSnapshot(6))
            Assert.Equal(4_321, above6.CountRows());
        using (var above7 = table.OpenSnapshot(7))
            Assert.Equal(0, above7.CountRows());
        // The caller's batch is still intact after the export to DuckDB.
        Assert.Equal("r-4320", ((StringArray)batch.Column("id")).GetString(4320));
    }

    [Fact]
    public async Task A_failing_batch_leaves_nothing_behind()
    {
        // Without a tail, so that DuckDB sees the batch during the call (with one, see Rows_DuckDB_refuses_in_the_tail_fault_the_table).
        await using var db = BufferTestDatabase.Open(o => { o.RowsPerChunk = 2048; o.TailRows = 0; });
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, CancellationToken.None);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(100, "ok"), 1, CancellationToken.None);
        var before = db.Budget.UsedBytes;

        // The NOT NULL column "id" holds a null in row 5,000 of 8,192, hidden behind a dictionary so that
        // the batch passes the cheap null-count check and DuckDB itself rejects it after two chunks were appended.
        var plain = BufferTestDatabase.SmallBatch(8_192, "bad");
        var idIndex = BufferTestDatabase.SmallSchema.IndexOf("id");
        var values = new StringArray.Builder();
        var indices = new Int32Array.Builder();
        for (var i = 0; i < 8_192; i++)
        {
            if (i == 5_000)
                values.AppendNull();
            else
                values.Append($"bad-{i}");
            indices.Append(i);
        }
        var dictionaryType = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var arrays = plain.Arrays.ToArray();
        arrays[idIndex] = new DictionaryArray(dictionaryType, indices.Build(), values.Build());
        var fields = plain.Schema.FieldsList.ToList();
        fields[idIndex] = new Field("id", dictionaryType, nullable: false);
        using var bad = new RecordBatch(new Schema(fields, null), arrays, 8_192);

        var e = await Assert.ThrowsAsync<BufferException>(() => table.AppendAsync(bad, 2, CancellationToken.None));
        Assert.Contains("NOT NULL", e.Message);
        Assert.Equal(100, await BufferTestDatabase.CountAsync(table));
        Assert.Equal(100, table.RowCount);
        Assert.Equal(1, table.MaxLsn);
        Assert.Equal(before, db.Budget.UsedBytes);

        // A plain null in a NOT NULL column is refused before DuckDB sees it.
        using var nullId = BufferTestDatabase.SmallBatch(8_192, "n", nullIdAt: 5_000);
        var se = await Assert.ThrowsAsync<SchemaException>(() => table.AppendAsync(nullId, 3, CancellationToken.None));
        Assert.Contains("'id'", se.Message);

        // The table still takes good batches afterwards.
        await table.AppendAsync(BufferTestDatabase.SmallBatch(10, "after"), 4, CancellationToken.None);
        Assert.Equal(110, await BufferTestDatabase.CountAsync(table));
    }

    [Fact]
    public async Task Small_batches_wait_in_the_tail_and_every_reader_sees_them()
    {
        await using var db = BufferTestDatabase.Open(o => o.TailRows = 1_000);
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, CancellationToken.None);
        for (var lsn = 1; lsn <= 30; lsn++)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(30, $"t{lsn}"), lsn, CancellationToken.None);
        // 900 rows: below the tail's size, so no DuckDB transaction; counted all the same.
        Assert.Equal(900, table.TailRows);
        Assert.Equal(900, table.RowCount);
        Assert.Equal(0, table.Stats.AppendTransactions);
        // A snapshot reads the tail where it is (tf_arrow_scan): still no DuckDB transaction.
        Assert.Equal(900, await BufferTestDatabase.CountAsync(table));
        Assert.Equal(900, table.TailRows);
        Assert.Equal(0, table.Stats.AppendTransactions);
        // Reaching the tail's size (at the 34th batch) moves it into DuckDB at once, in one transaction.
        for (var lsn = 31; lsn <= 64; lsn++)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(30, $"t{lsn}"), lsn, CancellationToken.None);
        Assert.Equal(1, table.Stats.AppendTransactions);
        Assert.Equal(34, table.Stats.AppendedBatches);
        Assert.Equal(900, table.TailRows);
        Assert.Equal(30 * 64, await BufferTestDatabase.CountAsync(table)); // DuckDB's rows and the tail's together
        // DML and deletes apply to rows still in the tail.
        await table.AppendAsync(BufferTestDatabase.SmallBatch(30, "tail"), 65, CancellationToken.None);
        Assert.Equal(930, table.TailRows);
        Assert.Equal(30, await table.ApplyDeleteAsync("id LIKE 'tail%'", CancellationToken.None));
        await table.AppendAsync(BufferTestDatabase.SmallBatch(30, "kept"), 66, CancellationToken.None);
        Assert.Equal(30 * 64, await table.DeleteUpToAsync(65, CancellationToken.None));
        Assert.Equal(30, await BufferTestDatabase.CountAsync(table));
        Assert.Equal(30, table.RowCount);
    }

    [Fact]
    public async Task Rows_DuckDB_refuses_in_the_tail_fault_the_table()
    {
        await using var db = BufferTestDatabase.Open(o => { o.ValidateUtf8 = false; o.TailRows = 100_000; });
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, CancellationToken.None);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(10, "ok"), 1, CancellationToken.None);
        var good = BufferTestDatabase.SmallBatch(10);
        var arrays = good.Arrays.ToArray();
        var bytes = new byte[10];
        System.Array.Fill(bytes, (byte)'a');
        bytes[5] = 0xC3; // invalid UTF-8 the (disabled) managed check would have refused
        arrays[good.Schema.GetFieldIndex("level")] = new StringArray(new ArrayData(StringType.Default, 10, 0, 0,
            [ArrowBuffer.Empty, new ArrowBuffer.Builder<int>().AppendRange(Enumerable.Range(0, 11)).Build(), new ArrowBuffer(bytes)]));
        using var bad = new RecordBatch(good.Schema, arrays, 10);
        await table.AppendAsync(bad, 2, CancellationToken.None); // accepted into the tail: DuckDB has not seen it
        // The move into DuckDB (here asked for; a DML or the tail's size does it too) fails whole, the good batch with
        // it, and the table stays refused: logged rows are missing from the buffer, which only reopening (replaying
        // the WAL) may repair.
        await Assert.ThrowsAsync<BufferException>(() => table.DrainTailAsync());
        Assert.NotNull(table.TailFault);
        Assert.Throws<BufferException>(() => table.OpenSnapshot(0));
        await Assert.ThrowsAsync<BufferException>(() => table.DrainTailAsync());
        await Assert.ThrowsAsync<BufferException>(() => table.ApplyDeleteAsync("true", CancellationToken.None));
    }

    [Fact]
    public async Task String_columns_are_accepted_as_large_view_and_dictionary_and_compare_equal()
    {
        await using var db = BufferTestDatabase.Open();
        var schema = TableSchema.Create("strs",
        [
            new ColumnDefinition("id", ColumnType.Utf8, Nullable: false),
            new ColumnDefinition("plain", ColumnType.Utf8),
            new ColumnDefinition("large", ColumnType.Utf8),
            new ColumnDefinition("view", ColumnType.Utf8),
            new ColumnDefinition("dict", ColumnType.Json),
            new ColumnDefinition("list_large", ColumnType.Utf8List),
            new ColumnDefinition("list_view", ColumnType.Utf8List),
        ]);
        await using var table = await BufferTable.CreateAsync(db, new TableId("p", "strs"), schema, CancellationToken.None);
        const int rows = 500;
        string? Text(int i) => i % 9 == 0 ? null : i % 4 == 0 ? "" : i % 4 == 1 ? $"short{i}" : $"a much longer string than twelve bytes #{i} ✓";
        var t0 = ArrowTestData.BaseTime;

        var large = new LargeStringArray.Builder();
        var view = new StringViewArray.Builder();
        var dictValues = new StringArray.Builder().Append("{\"a\":1}").Append("{\"b\":[2]}").Append("[]").Build();
        var dictIndices = new Int16Array.Builder();
        var listLarge = new ListArray.Builder(LargeStringType.Default);
        var listView = new ListArray.Builder(StringViewType.Default);
        for (var i = 0; i < rows; i++)
        {
            if (Text(i) is { } s)
            {
                large.Append(s);
                view.Append(s);
            }
            else
            {
                large.AppendNull();
                view.AppendNull();
            }
            if (i % 11 == 0)
                dictIndices.AppendNull();
            else
                dictIndices.Append((short)(i % 3));
            listLarge.Append();
            ((LargeStringArray.Builder)listLarge.ValueBuilder).Append($"L{i}").Append(Text(i + 1) ?? "");
            if (i % 5 == 0)
            {
                listView.AppendNull();
            }
            else
            {
                listView.Append();
                ((StringViewArray.Builder)listView.ValueBuilder).Append(Text(i + 2) ?? "z");
            }
        }
        var dictType = new DictionaryType(Int16Type.Default, StringType.Default, false);
        var canonical = ArrowTestData.Build(schema, rows, (c, i) => c.Name switch
        {
            "timestamp" => t0.AddSeconds(i),
            "date" => DateOnly.FromDateTime(t0.UtcDateTime),
            "id" => $"id{i:D4}",
            "project_id" => "p",
            _ => null,
        });
        var arrays = canonical.Arrays.ToArray();
        var fields = canonical.Schema.FieldsList.ToList();
        void Put(string name, IArrowArray array)
        {
            var index = schema.IndexOf(name);
            arrays[index] = array;
            fields[index] = new Field(name, array.Data.DataType, true);
        }
        Put("plain", ArrowTestData.BuildColumn(ColumnType.Utf8, rows, Text));
        Put("large", large.Build());
        Put("view", view.Build());
        Put("dict", new DictionaryArray(dictType, dictIndices.Build(), dictValues));
        Put("list_large", listLarge.Build());
        Put("list_view", listView.Build());
        using var batch = new RecordBatch(new Schema(fields, null), arrays, rows);

        await table.AppendAsync(batch, 1, CancellationToken.None);

        using var snapshot = table.OpenSnapshot(0);
        using var result = snapshot.QueryArrow($"SELECT * FROM {snapshot.Relation} ORDER BY id");
        var back = ArrowTestData.Rows(result.ReadAll());
        ArrowTestData.AssertRowsEqual(ArrowTestData.Rows(batch), back, schema.Columns.Select(c => c.Name).ToList());
        // Values of the different encodings compare equal inside DuckDB too.
        Assert.Equal(0L, snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE plain IS DISTINCT FROM large OR plain IS DISTINCT FROM view"));
        Assert.Equal(rows - (rows + 10) / 11, Convert.ToInt32(snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE dict IN ('{{\"a\":1}}', '{{\"b\":[2]}}', '[]')")));
    }

    [Fact]
    public async Task Invalid_utf8_is_refused_whole_even_without_the_managed_check()
    {
        await using var db = BufferTestDatabase.Open(o => { o.ValidateUtf8 = false; o.TailRows = 0; });
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, CancellationToken.None);
        var good = BufferTestDatabase.SmallBatch(3_000);
        var arrays = good.Arrays.ToArray();
        var bytes = new byte[3_000];
        System.Array.Fill(bytes, (byte)'a');
        bytes[2_500] = 0xC3; // a lead byte followed by ASCII, in row 2,500
        arrays[good.Schema.GetFieldIndex("level")] = new StringArray(new ArrayData(StringType.Default, 3_000, 0, 0,
            [ArrowBuffer.Empty, new ArrowBuffer.Builder<int>().AppendRange(Enumerable.Range(0, 3_001)).Build(), new ArrowBuffer(bytes)]));
        using var bad = new RecordBatch(good.Schema, arrays, 3_000);
        var e = await Assert.ThrowsAsync<BufferException>(() => table.AppendAsync(bad, 1, CancellationToken.None));
        Assert.Contains("unicode", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await BufferTestDatabase.CountAsync(table));
    }

    [Fact]
    public async Task Mistyped_and_malformed_batches_are_refused_with_the_column_named()
    {
        await using var db = BufferTestDatabase.Open(o => o.ValidateUtf8 = true);
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, CancellationToken.None);
        var good = BufferTestDatabase.SmallBatch(10);

        RecordBatch Replace(string name, IArrowArray array, IArrowType? type = null)
        {
            var index = good.Schema.GetFieldIndex(name);
            var arrays = good.Arrays.ToArray();
            arrays[index] = array;
            var fields = good.Schema.FieldsList.ToList();
            fields[index] = new Field(name, type ?? array.Data.DataType, fields[index].IsNullable);
            return new RecordBatch(new Schema(fields, null), arrays, good.Length);
        }

        // Text in an integer column: DuckDB would cast it silently; we refuse.
        var text = ArrowTestData.BuildColumn(ColumnType.Utf8, 10, i => i.ToString());
        Assert.Contains("'n'", (await Assert.ThrowsAsync<SchemaException>(() => table.AppendAsync(Replace("n", text), 1, default))).Message);

        // A timestamp without time zone.
        var naive = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, (string?)null));
        for (var i = 0; i < 10; i++)
            naive.Append(ArrowTestData.BaseTime);
        Assert.Contains("'timestamp'", (await Assert.ThrowsAsync<SchemaException>(() => table.AppendAsync(Replace("timestamp", naive.Build()), 1, default))).Message);

        // Offsets pointing past the data buffer.
        var offsets = new ArrowBuffer.Builder<int>();
        for (var i = 0; i <= 10; i++)
            offsets.Append(i * 1000);
        var broken = new StringArray(new ArrayData(StringType.Default, 10, 0, 0,
            [ArrowBuffer.Empty, offsets.Build(), new ArrowBuffer(new byte[16])]));
        Assert.Contains("'level'", (await Assert.ThrowsAsync<SchemaException>(() => table.AppendAsync(Replace("level", broken), 1, default))).Message);

        // A dictionary index outside the dictionary.
        var dictType = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var dict = new DictionaryArray(dictType, new Int32Array.Builder().AppendRange(Enumerable.Range(0, 10)).Build(),
            new StringArray.Builder().Append("only").Build());
        Assert.Contains("dictionary index", (await Assert.ThrowsAsync<SchemaException>(() => table.AppendAsync(Replace("level", dict), 1, default))).Message);

        // Invalid UTF-8.
        var bad = new StringArray(new ArrayData(StringType.Default, 10, 0, 0,
            [ArrowBuffer.Empty, new ArrowBuffer.Builder<int>().AppendRange(Enumerable.Range(0, 11)).Build(), new ArrowBuffer(Enumerable.Repeat((byte)0xC3, 10).ToArray())]));
        Assert.Contains("UTF-8", (await Assert.ThrowsAsync<SchemaException>(() => table.AppendAsync(Replace("level", bad), 1, default))).Message);

        // Wrong column order or count.
        var swapped = new RecordBatch(new Schema(good.Schema.FieldsList.Reverse(), null), good.Arrays.Reverse(), good.Length);
        await Assert.ThrowsAsync<SchemaException>(() => table.AppendAsync(swapped, 1, default));

        Assert.Equal(0, await BufferTestDatabase.CountAsync(table));
        Assert.Equal(0, db.Budget.UsedBytes);
    }

    [Fact]
    public async Task Lsns_must_not_decrease_and_are_stored_per_row()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, CancellationToken.None);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(5, "a"), 10, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(3, "b"), 10, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(2, "c"), 12, default);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => table.AppendAsync(BufferTestDatabase.SmallBatch(2, "d"), 11, default));
        Assert.Equal(12, table.MaxLsn);
        Assert.Equal(10, table.RowCount);
        Assert.Equal(2, await BufferTestDatabase.CountAsync(table, aboveLsn: 10));
        Assert.Equal(10, await BufferTestDatabase.CountAsync(table, aboveLsn: 9));
    }

    [Fact]
    public async Task Creating_a_table_again_drops_the_stale_one()
    {
        await using var db = BufferTestDatabase.Open();
        var first = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await first.AppendAsync(BufferTestDatabase.SmallBatch(5), 1, default);
        await using var second = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        Assert.Equal(0, await BufferTestDatabase.CountAsync(second));
        // The stale instance was retired: it refuses work, and disposing it again leaves the new table alone.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => first.AppendAsync(BufferTestDatabase.SmallBatch(1), 2, default));
        await first.DisposeAsync();
        await second.AppendAsync(BufferTestDatabase.SmallBatch(3), 1, default);
        Assert.Equal(3, await BufferTestDatabase.CountAsync(second));
        Assert.Equal(0, db.Budget.ReservedBytes - second.ReservedBytes);
        Assert.NotEqual(BufferTable.DatabasePrefixFor(new TableId("p1", "small")), BufferTable.DatabasePrefixFor(new TableId("p1/small", "x")));
    }
}
