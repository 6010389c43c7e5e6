using CsCheck;
using ParquetSharp;
using TimeFusion.Buffer;
using TimeFusion.Flush;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// <see cref="BufferOptions.OmitNullColumns"/>: the Arrow writer leaves out of its files the nullable columns null in
/// every row written, and nothing else — against DuckDB's COPY of the same rows (which writes every column): the same
/// rows in the other columns, and the same Delta statistics, an omitted column's saying null count = row count.
/// </summary>
public sealed partial class TailParquetWriterTests
{
    /// <summary>The nullable columns of <see cref="EveryType"/> a case makes null everywhere, sometimes, or leaves as they are.</summary>
    private static readonly string[] NullableEveryType = EveryType.Columns
        .Where(c => c.Nullable && c.Name is not (TableSchema.TimestampColumn or TableSchema.DateColumn)).Select(c => c.Name).ToArray();

    [Fact]
    public void Columns_null_in_every_row_are_left_out_of_the_files_and_their_stats_say_so() =>
        Gen.Select(Gen.Int[0, 2].Array[NullableEveryType.Length], Gen.Int[1, 3_000], Gen.Int[1, 3], Gen.Bool)
            .Sample((modes, rows, parts, shuffled) => ExportNullPatternAsync(modes, rows, parts, shuffled).GetAwaiter().GetResult(), iter: 10, threads: 1);

    [Fact]
    public async Task With_the_option_off_every_column_is_written() =>
        await ExportNullPatternAsync(NullableEveryType.Select(_ => 0).ToArray(), rows: 500, parts: 2, shuffled: false, omit: false);

    /// <summary>
    /// <paramref name="rows"/> rows of <see cref="EveryType"/> in <paramref name="parts"/> batches (each shuffled when
    /// <paramref name="shuffled"/>: the sorted path), nullable column k null in every row (mode 0), in three rows of
    /// four (1), or as <see cref="EveryTypeValue"/> has it (2); exported by both writers and compared.
    /// </summary>
    private async Task ExportNullPatternAsync(int[] modes, int rows, int parts, bool shuffled, bool omit = true)
    {
        var mode = NullableEveryType.Select((name, k) => (name, k)).ToDictionary(x => x.name, x => modes[x.k]);
        object? Value(ColumnDefinition column, int r) => mode.TryGetValue(column.Name, out var m) && (m == 0 || (m == 1 && r % 4 != 0))
            ? null
            : EveryTypeValue(column, r);
        var random = new Random(rows * 31 + parts);
        var batches = Enumerable.Range(0, parts).Select(p =>
        {
            var ids = Enumerable.Range(0, rows).Where(r => r % parts == p).ToArray();
            if (shuffled)
                random.Shuffle(ids);
            return Build(EveryType, ids.Length, 0, (c, i) => Value(c, ids[i]));
        }).Where(b => b.Length > 0).ToList();
        var nullEverywhere = omit
            ? NullableEveryType.Where(name => Enumerable.Range(0, rows).All(r => Value(EveryType.Find(name)!, r) is null)).ToHashSet()
            : [];

        var (arrow, duck) = await ExportBothAsync(EveryType, batches, omitNullColumns: omit);

        Assert.Equal(duck.Select(f => f.Date), arrow.Select(f => f.Date));
        var now = DateTimeOffset.UnixEpoch;
        for (var i = 0; i < arrow.Count; i++)
        {
            var (a, d) = (arrow[i], duck[i]);
            Assert.Equal(d.Rows, a.Rows);
            // The footer: every column but the date and those null everywhere, in the table's order.
            var expected = EveryType.Columns.Select(c => c.Name).Where(n => n != TableSchema.DateColumn && !nullEverywhere.Contains(n)).ToList();
            Assert.Equal(expected, FooterColumns(a.LocalPath));
            // The same rows in the other columns (timestamps unique: one order).
            var columns = string.Join(", ", expected.Select(SqlNames.Quote));
            Assert.Equal(RowsOf(d.LocalPath, $"SELECT {columns} FROM read_parquet({SqlNames.Literal(d.LocalPath)}, hive_partitioning = false)"),
                RowsOf(a.LocalPath, $"SELECT * FROM read_parquet({SqlNames.Literal(a.LocalPath)}, hive_partitioning = false)"));
            // The same statistics; DuckDB gives no null count for a list column, the omitted one's is known.
            var duckStats = d.Stats.ToDictionary(kv => kv.Key, kv => kv.Value);
            foreach (var name in nullEverywhere)
                duckStats[name] = new ColumnStats(d.Rows, null, null);
            Assert.Equal(StatsText(DeltaAddForExport.Create(d with { Stats = duckStats }, EveryType, now).GetStats()!),
                StatsText(DeltaAddForExport.Create(a, EveryType, now).GetStats()!));
            foreach (var name in nullEverywhere)
                Assert.Equal(new ColumnStats(a.Rows, null, null), a.Stats[name]);
        }
    }

    /// <summary>The column names in a Parquet file's footer, read with ParquetSharp.</summary>
    private static List<string> FooterColumns(string path)
    {
        using var reader = new ParquetFileReader(path);
        var schema = reader.FileMetaData.Schema;
        // Top-level fields: a list column's leaf is "tags.list.element".
        return Enumerable.Range(0, schema.NumColumns).Select(c => schema.Column(c).Path.ToDotVector()[0]).ToList();
    }

    private static List<string> RowsOf(string path, string sql) =>
        Query(path, sql, r =>
        {
            var cells = new string[r.FieldCount];
            for (var c = 0; c < cells.Length; c++)
                cells[c] = r.IsDBNull(c) ? "∅" : Cell(r.GetValue(c));
            return string.Join(" | ", cells);
        });
}
