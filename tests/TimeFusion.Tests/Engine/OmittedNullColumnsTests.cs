using Apache.Arrow;
using CsCheck;
using ParquetSharp;
using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Query.Execution;
using TimeFusion.Tables;
using TimeFusion.Tests.Buffer;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Query.Execution;

namespace TimeFusion.Tests.Engine;

/// <summary>
/// Files without the columns null in all their rows (<see cref="BufferOptions.OmitNullColumns"/>), read back: one
/// table flushed with the option on and the same rows flushed with it off (every column written, the previous path)
/// answer every query alike — files of one date where some hold a column and others lack it, columns no file holds,
/// filters IS NULL / IS NOT NULL / = on them, aggregates, newest-first reads — and still do after a DELETE and an
/// UPDATE (rewriting such files), an OPTIMIZE (merging them) and a reopening.
/// </summary>
public sealed class OmittedNullColumnsTests
{
    private static readonly TableSchema Schema = TableSchema.Create("sparse",
    [
        new ColumnDefinition("id", ColumnType.Utf8, Nullable: false),
        new ColumnDefinition("s", ColumnType.Utf8),
        new ColumnDefinition("n", ColumnType.Int64),
        new ColumnDefinition("f", ColumnType.Float64),
        new ColumnDefinition("b", ColumnType.Boolean),
        new ColumnDefinition("i", ColumnType.Int32),
        new ColumnDefinition("j", ColumnType.Json),
        new ColumnDefinition("tags", ColumnType.Utf8List),
        new ColumnDefinition("seen", ColumnType.TimestampUs),
        new ColumnDefinition("d", ColumnType.Date),
    ]);

    private static readonly string[] Sparse = ["s", "n", "f", "b", "i", "j", "tags", "seen", "d"];

    private static readonly TableId Id = new("p-sparse", "sparse");

    private static readonly DateTimeOffset Start = new(2026, 3, 1, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Tables_flushed_with_and_without_the_null_columns_answer_alike_through_dml_optimize_and_reopening() =>
        // Per flushed file (2–5 of them, the last rows buffered) and column: null in every row (0), in some (1), in none (2).
        Gen.Select(Gen.Int[0, 2].Array[Sparse.Length].Array[2, 5], Gen.Int[1, 120], Gen.Int[0, 1])
            .Sample((modes, rows, secondDate) => RunAsync(modes, rows, secondDate == 1).GetAwaiter().GetResult(), iter: 6, threads: 1);

    private static async Task RunAsync(int[][] modes, int rowsPerFile, bool secondDate)
    {
        using var dirOn = new TempDirectory();
        using var dirOff = new TempDirectory();
        var on = new EngineTestKit(dirOn.Path, Options(omit: true));
        var off = new EngineTestKit(dirOff.Path, Options(omit: false));
        await using var disposeOn = on;
        await using var disposeOff = off;
        var engineOn = await TableEngine.OpenAsync(Id, Schema, on.Services);
        var engineOff = await TableEngine.OpenAsync(Id, Schema, off.Services);
        try
        {
            var row = 0;
            for (var file = 0; file < modes.Length; file++)
            {
                // Minutes apart, all on one date, unless the second date is asked for (files after the first past midnight).
                var batch = Batch(modes[file], row, rowsPerFile, secondDate && file > 0);
                row += rowsPerFile;
                await engineOn.InsertAsync(batch);
                await engineOff.InsertAsync(batch);
                if (file < modes.Length - 1)
                {
                    await engineOn.FlushAsync();
                    await engineOff.FlushAsync();
                }
            }
            // Some columns are left out where they were null in every row of a file, none with the option off.
            var nullInSomeFile = modes[..^1].Select((m, file) => Sparse.Any(c => Enumerable.Range(file * rowsPerFile, rowsPerFile).All(r => Value(m, c, r) is null))).Any(x => x);
            Assert.Equal(nullInSomeFile, await FooterColumnsAsync(on, engineOn) < await FooterColumnsAsync(off, engineOff));
            await AssertSameAnswersAsync(engineOn, on, engineOff, off, "flushed");

            foreach (var engine in new[] { engineOn, engineOff })
            {
                await engine.DeleteAsync("n % 3 = 0 OR s = 's-1'");
                await engine.UpdateAsync("id LIKE '%7'", [new("f", "2.5"), new("tags", "['u']")]);
                await engine.UpdateAsync("i IS NULL AND id LIKE '%2'", [new("i", "42")]);
                await engine.FlushAsync();
            }
            await AssertSameAnswersAsync(engineOn, on, engineOff, off, "after DELETE and UPDATE");

            await engineOn.OptimizeAsync();
            await engineOff.OptimizeAsync();
            await AssertSameAnswersAsync(engineOn, on, engineOff, off, "after OPTIMIZE");

            await engineOn.DisposeAsync();
            await engineOff.DisposeAsync();
            engineOn = await TableEngine.OpenAsync(Id, Schema, on.Services);
            engineOff = await TableEngine.OpenAsync(Id, Schema, off.Services);
            await AssertSameAnswersAsync(engineOn, on, engineOff, off, "reopened");
        }
        finally
        {
            await engineOn.DisposeAsync();
            await engineOff.DisposeAsync();
        }
    }

    private static BufferOptions Options(bool omit) => new()
    {
        MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 2, OmitNullColumns = omit,
    };

    /// <summary>Rows first … first+count-1, one minute apart; sparse column k as <paramref name="modes"/>[k] says.</summary>
    private static object? Value(int[] modes, string column, int r)
    {
        var k = System.Array.IndexOf(Sparse, column);
        if (k >= 0 && (modes[k] == 0 || (modes[k] == 1 && r % 3 != 1)))
            return null;
        return column switch
        {
            "id" => $"r-{r}",
            "s" => $"s-{r % 4}",
            "n" => (long)r,
            "f" => r / 8.0,
            "b" => r % 2 == 0,
            "i" => r % 5,
            "j" => $"{{\"k\":{r % 3}}}",
            "tags" => new string?[] { $"t{r % 2}", "x" },
            "seen" => Start.AddHours(r),
            "d" => DateOnly.FromDateTime(Start.AddDays(r).UtcDateTime),
            _ => throw new ArgumentOutOfRangeException(column),
        };
    }

    private static RecordBatch Batch(int[] modes, int first, int count, bool nextDay)
    {
        var columns = Schema.Columns.Where(c => c.Name is not (TableSchema.DateColumn or TableSchema.ProjectColumn)).ToList();
        var arrays = new List<IArrowArray>();
        foreach (var column in columns)
        {
            arrays.Add(column.Name == TableSchema.TimestampColumn
                ? ArrowTestData.BuildColumn(column.Type, count, i => Start.AddMinutes(first + i).AddHours(nextDay ? 6 : 0))
                : ArrowTestData.BuildColumn(column.Type, count, i => Value(modes, column.Name, first + i)));
        }
        var arrow = Schema.ToArrowSchema();
        return new RecordBatch(new Apache.Arrow.Schema(columns.Select(c => arrow.GetFieldByName(c.Name)), null), arrays, count);
    }

    private static async Task<int> FooterColumnsAsync(EngineTestKit kit, TableEngine engine)
    {
        var total = 0;
        foreach (var add in engine.DeltaSnapshot.Files)
        {
            using var reader = new ParquetFileReader(await kit.Objects.GetLocalPathAsync(engine.DeltaSnapshot.ObjectPath(add)));
            total += reader.FileMetaData.Schema.NumColumns;
        }
        return total;
    }

    private static readonly string[] Queries =
    [
        "SELECT * FROM sparse ORDER BY timestamp",
        "SELECT count(*), count(s), count(n), count(f), count(b), count(i), count(j), count(tags), count(seen), count(d), min(s), max(n), sum(n), avg(f), "
            + "bool_or(b), max(i), max(seen), min(d), sum(CASE WHEN tags IS NULL THEN 1 ELSE 0 END) FROM sparse",
        "SELECT id FROM sparse WHERE s IS NULL AND n IS NOT NULL ORDER BY id",
        "SELECT id, f FROM sparse WHERE s = 's-2' OR i = 3 OR tags IS NOT NULL ORDER BY id",
        "SELECT date, count(*), count(j), count(seen) FROM sparse GROUP BY date ORDER BY date",
        "SELECT id, n FROM sparse WHERE n > 5 AND seen IS NULL ORDER BY id",
    ];

    private static async Task AssertSameAnswersAsync(TableEngine on, EngineTestKit onKit, TableEngine off, EngineTestKit offKit, string what)
    {
        var executor = new SnapshotQueryExecutor();
        foreach (var sql in Queries)
        {
            var expected = await RunAsync(executor, off, offKit, sql, null);
            ArrowRows.AssertSameRows(expected, await RunAsync(executor, on, onKit, sql, null), ordered: true, $"{what}: {sql}", allowEmpty: true);
        }
        // Newest first: read in rounds of files, newest first.
        const string latest = "SELECT * FROM sparse ORDER BY timestamp DESC LIMIT 5";
        ArrowRows.AssertSameRows(await RunAsync(executor, off, offKit, latest, 5), await RunAsync(executor, on, onKit, latest, 5), ordered: true, $"{what}: {latest}",
            allowEmpty: true);
    }

    private static async Task<List<object?[]>> RunAsync(SnapshotQueryExecutor executor, TableEngine engine, EngineTestKit kit, string sql, long? newestFirst)
    {
        using var snapshot = engine.OpenSnapshot();
        var (batches, _) = await executor.ExecuteDetailedAsync(snapshot, Schema, kit.Objects, Schema.Name, sql, TimeRange.All, newestFirst, CancellationToken.None);
        using (batches) return ArrowRows.ToRows(batches);
    }
}
