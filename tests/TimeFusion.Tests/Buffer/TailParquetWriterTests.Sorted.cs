using Apache.Arrow;
using CsCheck;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Flush;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// Tail rows not in timestamp order (concurrent writers' batches interleaving, rows out of order within a batch, equal
/// timestamps) gathered in timestamp order and written by the Arrow writer (<see cref="TailParquetWriter.WriteSorted"/>)
/// against DuckDB's sorted COPY of the same rows: the same files per date, the same rows in each (DuckDB's sort does
/// not keep arrival order for equal timestamps, so as a multiset), timestamps non-decreasing, the same Delta statistics;
/// and the Arrow writer's order exactly the stable one (timestamp, then arrival).
/// </summary>
public sealed partial class TailParquetWriterTests
{
    [Fact]
    public void Unordered_tails_of_every_type_match_DuckDBs_sorted_export() =>
        Gen.Select(Gen.Int[1, 2_500], Gen.Int[1, 5], Gen.Int[1, 4], Gen.Int, Gen.Bool)
            .Sample((rows, writers, ties, seed, otel) =>
            {
                var schema = otel ? OtelLogsAndSpans.Schema : EveryType;
                ExportUnorderedAsync(schema, rows, writers, ties, seed).GetAwaiter().GetResult();
            }, iter: 12, threads: 1);

    [Fact]
    public async Task Ties_and_three_dates_from_interleaved_writers_match_DuckDBs_sorted_export() =>
        await ExportUnorderedAsync(EveryType, rows: 6_000, writers: 4, ties: 3, seed: 42);

    [Fact]
    public void A_sorted_write_cancelled_leaves_no_file()
    {
        using var dir = new TempDirectory();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        // Two batches over two dates, the second before the first: the sorted path.
        var batches = new[] { Build(EveryType, 100, 5_000, EveryTypeValue), Build(EveryType, 100, 0, EveryTypeValue) };

        Assert.ThrowsAny<OperationCanceledException>(() => TailParquetWriter.WriteSorted(batches, EveryType, dir.Path, 32, useThreads: false, cancel.Token));

        Assert.Empty(Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories));
    }

    /// <summary>
    /// <paramref name="rows"/> rows of <paramref name="schema"/>, <paramref name="ties"/> to a timestamp, 97 s apart
    /// per timestamp from 23:00 (so crossing midnights once there are ~900 of them), dealt to <paramref name="writers"/>
    /// writers that log them in batches of random sizes, interleaved, a quarter of the batches shuffled within;
    /// exported by a table gathering them in C# and by one sorting with DuckDB, and compared.
    /// </summary>
    private async Task ExportUnorderedAsync(TableSchema schema, int rows, int writers, int ties, int seed)
    {
        var random = new Random(seed);
        var queues = Enumerable.Range(0, writers).Select(_ => new List<int>()).ToArray();
        for (var r = 0; r < rows; r++)
            queues[random.Next(writers)].Add(r);
        var pending = queues.Select(q => new Queue<int>(q)).ToList();
        var arrival = new List<int[]>();
        while (pending.Any(q => q.Count > 0))
        {
            var q = pending.Where(q => q.Count > 0).ElementAt(random.Next(pending.Count(q => q.Count > 0)));
            var batch = Enumerable.Range(0, Math.Min(q.Count, random.Next(1, 400))).Select(_ => q.Dequeue()).ToArray();
            if (random.Next(4) == 0)
                random.Shuffle(batch);
            arrival.Add(batch);
        }
        object? Value(ColumnDefinition column, int r)
        {
            var at = Start.AddSeconds(97.0 * (r / ties));
            return column.Name switch
            {
                "timestamp" => at,
                "date" => DateOnly.FromDateTime(at.UtcDateTime),
                _ when ReferenceEquals(schema, EveryType) => EveryTypeValue(column, r),
                _ => ArrowTestData.OtelValue(column, r),
            };
        }
        var batches = arrival.Select(ids => Build(schema, ids.Length, 0, (c, i) => Value(c, ids[i]))).ToList();

        var (arrow, duck) = await ExportBothAsync(schema, batches);

        Assert.Equal(duck.Select(f => f.Date), arrow.Select(f => f.Date));
        // The stable order: by date, then timestamp, equal timestamps in arrival order.
        var expected = arrival.SelectMany(ids => ids).Select((r, k) => (r, k, At: Start.AddSeconds(97.0 * (r / ties))))
            .GroupBy(x => DateOnly.FromDateTime(x.At.UtcDateTime)).OrderBy(g => g.Key)
            .Select(g => g.OrderBy(x => x.At).ThenBy(x => x.k).Select(x => (string)Value(schema.Columns[schema.IndexOf("id")], x.r)!).ToList())
            .ToList();
        var now = DateTimeOffset.UnixEpoch;
        for (var i = 0; i < arrow.Count; i++)
        {
            var (a, d) = (arrow[i], duck[i]);
            Assert.Equal(d.Rows, a.Rows);
            Assert.Equal(expected[i], Query(a.LocalPath, $"SELECT id FROM read_parquet({SqlNames.Literal(a.LocalPath)})", r => r.GetString(0)));
            var (arrowRows, duckRows) = (Rows(a.LocalPath, "id"), Rows(d.LocalPath, "id"));
            Assert.Equal(duckRows.Order(StringComparer.Ordinal), arrowRows.Order(StringComparer.Ordinal));
            Assert.All(RowGroups(a.LocalPath), n => Assert.InRange(n, 1, TailParquetWriter.RowGroupRows));
            Assert.Equal(StatsText(DeltaAddForExport.Create(d, schema, now).GetStats()!), StatsText(DeltaAddForExport.Create(a, schema, now).GetStats()!));
        }
        AssertOrdered(arrow, ReferenceEquals(schema, EveryType) ? "i64" : "0");
        AssertOrdered(duck, ReferenceEquals(schema, EveryType) ? "i64" : "0");
    }
}
