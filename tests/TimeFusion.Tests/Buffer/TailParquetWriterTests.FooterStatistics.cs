using Apache.Arrow;
using CsCheck;
using TimeFusion.Buffer;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// The Delta statistics read from the written file's footer (<see cref="ParquetFooterStatistics"/>, the default) against
/// those gathered from the Arrow arrays as they are written (the previous path): the same for any rows — text bounds
/// longer than the writer's 4 KiB statistics limit, NaN and infinite floats, columns null in some row groups — in the
/// ordered and the sorted writer; the files themselves the same bytes.
/// </summary>
public sealed partial class TailParquetWriterTests
{
    [Fact]
    public void Statistics_from_the_footer_equal_those_gathered_from_the_arrays() =>
        Gen.Select(Gen.Int[1, 3_000], Gen.Int[1, 4], Gen.Int, Gen.Bool)
            .Sample((rows, batches, seed, sorted) =>
            {
                var random = new Random(seed);
                var values = RandomValues(random, rows);
                var cut = Enumerable.Range(0, batches - 1).Select(_ => random.Next(rows + 1)).Append(0).Append(rows).Distinct().Order().ToArray();
                var parts = cut.Zip(cut.Skip(1), (from, to) => Build(EveryType, to - from, from, values)).ToList();
                if (sorted)
                    parts.Reverse();
                AssertSameStatistics(parts, sorted);
            }, iter: 40, threads: 1);

    [Fact]
    public void A_text_bound_beyond_the_footers_limit_is_taken_from_the_arrays_truncated()
    {
        // 130,000 rows: two row groups; the largest "s" (5,000 × 'z', beyond the writer's 4 KiB) in the second, the
        // smallest "i64" in the second too.
        var longest = new string('z', 5_000);
        var batches = Enumerable.Range(0, 13).Select(k => Build(EveryType, 10_000, k * 10_000, (c, r) => c.Name switch
        {
            "s" => r == 125_000 ? longest : $"v{r % 977}",
            "i64" => r == 129_999 ? -5L : (long)r,
            "timestamp" => Start.AddMilliseconds(r),
            "date" => DateOnly.FromDateTime(Start.AddMilliseconds(r).UtcDateTime),
            _ => EveryTypeValue(c, r),
        })).ToList();

        var files = AssertSameStatistics(batches, sorted: false);

        var stats = Assert.Single(files).Stats;
        Assert.Equal(new ColumnStats(0, "v0", new string('z', 32) + "\U0010FFFF"), stats["s"]);
        Assert.Equal(new ColumnStats(0, -5L, 129_998L), stats["i64"]);
    }

    /// <summary>Writes <paramref name="batches"/> with the statistics from the footer and from the arrays; asserts them equal.</summary>
    private static List<ExportedFile> AssertSameStatistics(IReadOnlyList<RecordBatch> batches, bool sorted)
    {
        using var footerDir = new TempDirectory();
        using var arraysDir = new TempDirectory();
        List<ExportedFile> Write(string root) => sorted
            ? TailParquetWriter.WriteSorted(batches, EveryType, root, 32, useThreads: false, CancellationToken.None, omitNullColumns: true)
            : TailParquetWriter.Write(batches, EveryType, root, 32, useThreads: false, CancellationToken.None, omitNullColumns: true);
        var footer = Write(footerDir.Path);
        List<ExportedFile> arrays;
        TailParquetWriter.StatisticsFromFooter = false;
        try
        {
            arrays = Write(arraysDir.Path);
        }
        finally
        {
            TailParquetWriter.StatisticsFromFooter = true;
        }
        Assert.Equal(arrays.Select(f => (f.Date, f.Rows)), footer.Select(f => (f.Date, f.Rows)));
        for (var i = 0; i < footer.Count; i++)
        {
            // Only where the statistics come from differs: the files are the same bytes (so are their reads and pruning).
            Assert.Equal(File.ReadAllBytes(arrays[i].LocalPath), File.ReadAllBytes(footer[i].LocalPath));
            Assert.Equal(arrays[i].Stats.Keys.Order(StringComparer.Ordinal), footer[i].Stats.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, expected) in arrays[i].Stats)
                Assert.True(Equals(expected, footer[i].Stats[name]), $"{footer[i].RelativePath} {name}: arrays {expected}, footer {footer[i].Stats[name]}");
        }
        return footer;
    }

    /// <summary>
    /// Values of <see cref="EveryType"/> for rows of one export: timestamps in order from 23:00 (dates change), every
    /// other column random with nulls, some text far longer than 4 KiB, floats with NaN, ±∞ and ±0.
    /// </summary>
    private static Func<ColumnDefinition, int, object?> RandomValues(Random random, int rows)
    {
        var cells = EveryType.Columns.ToDictionary(c => c.Name, c => Enumerable.Range(0, rows).Select(r => RandomValue(random, c, r)).ToArray());
        return (c, r) => cells[c.Name][r];
    }

    private static object? RandomValue(Random random, ColumnDefinition column, int r)
    {
        var at = Start.AddSeconds(61.0 * r);
        // Some columns null for long stretches (whole batches), others here and there.
        if (column.Nullable && column.Name is not ("timestamp" or "date") && random.Next(column.Name == "all_null" ? 1 : 6) == 0)
            return null;
        return column.Name switch
        {
            "timestamp" => at,
            "date" => DateOnly.FromDateTime(at.UtcDateTime),
            "b" or "flags" => random.Next(3) == 0,
            "i32" => random.Next(int.MinValue, int.MaxValue),
            "i64" => random.NextInt64(long.MinValue, long.MaxValue),
            "f" => random.Next(12) switch
            {
                0 => double.NaN,
                1 => double.PositiveInfinity,
                2 => double.NegativeInfinity,
                3 => -0.0,
                4 => 0.0,
                _ => (random.NextDouble() - 0.5) * 1e6,
            },
            "at" => Start.AddSeconds(random.Next(-1_000_000_000, 1_000_000_000)),
            "tags" => new string?[] { "a", null, $"t{random.Next(9)}" },
            "blob" => new[] { (byte)random.Next(256) },
            "id" or "s" or "j" => random.Next(40) == 0
                ? new string((char)('a' + random.Next(26)), random.Next(4_000, 6_000))
                : $"{(char)('A' + random.Next(60))}{random.Next(1_000)}é",
            _ => EveryTypeValue(column, r),
        };
    }
}
