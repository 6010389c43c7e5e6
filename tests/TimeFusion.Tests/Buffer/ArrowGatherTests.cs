using Apache.Arrow;
using CsCheck;
using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// <see cref="ArrowGather"/> against a naive reference: the gathered array's cells equal the source cells picked one by
/// one, for every column type the export writes, with nulls, empty and all-null sources, sliced sources and lists.
/// </summary>
public sealed class ArrowGatherTests
{
    private static readonly ColumnType[] Types =
    [
        ColumnType.Utf8, ColumnType.Json, ColumnType.Boolean, ColumnType.Int32, ColumnType.Int64, ColumnType.Float64,
        ColumnType.TimestampUs, ColumnType.Date, ColumnType.Utf8List, ColumnType.Binary,
    ];

    [Fact]
    public void Take_equals_the_rows_picked_one_by_one_for_every_type()
    {
        // A type, up to four sources (lengths, a slice offset each, a seed for their cells), rows picked at random.
        Gen.Select(Gen.OneOfConst(Types), Gen.Select(Gen.Int[0, 60], Gen.Int[0, 5], Gen.Int[0, 3]).Array[1, 4], Gen.Int[0, 1_000_000], Gen.Int[0, 300])
            .Sample((type, shapes, seed, picks) =>
            {
                var random = new Random(seed);
                var sources = shapes.Select((s, k) => Source(type, s.Item1, s.Item2, s.Item3, k * 1_000 + seed % 1_000)).ToArray();
                var available = sources.SelectMany((a, k) => Enumerable.Range(0, a.Length).Select(r => ((long)k << 32) | (uint)r)).ToArray();
                if (available.Length == 0)
                    return;
                // Runs of consecutive rows half of the time, single rows otherwise.
                var rows = new List<long>();
                while (rows.Count < picks)
                {
                    var at = random.Next(available.Length);
                    var length = random.Next(2) == 0 ? 1 : random.Next(1, 20);
                    for (var j = at; j < Math.Min(available.Length, at + length); j++)
                        rows.Add(available[j]);
                }
                var runs = new GatherRun[Math.Max(1, rows.Count)];
                var count = ArrowGather.ToRuns(rows.ToArray(), runs);
                Assert.Equal(rows.Count, runs.Take(count).Sum(r => r.Length));

                using var gather = new ArrowGather();
                var taken = gather.Take(sources, runs.AsSpan(0, count), rows.Count);

                Assert.Equal(rows.Count, taken.Length);
                Assert.Equal(sources[0].Data.DataType.TypeId, taken.Data.DataType.TypeId);
                var expected = rows.Select(p => Cell(sources[(int)(p >> 32)], (int)p)).ToList();
                var actual = Enumerable.Range(0, taken.Length).Select(i => Cell(taken, i)).ToList();
                Assert.Equal(expected, actual);
                Assert.Equal(expected.Count(c => c == "∅"), taken.NullCount);
            }, iter: 400);
    }

    [Fact]
    public void A_pinned_gather_of_whole_sources_is_their_concatenation_and_owns_its_buffers_past_release()
    {
        Gen.Select(Gen.OneOfConst(Types), Gen.Select(Gen.Int[0, 60], Gen.Int[0, 5], Gen.Int[0, 3]).Array[1, 6], Gen.Int[0, 1_000_000])
            .Sample((type, shapes, seed) =>
            {
                var sources = shapes.Select((s, k) => Source(type, s.Item1, s.Item2, s.Item3, k * 1_000 + seed % 1_000)).ToArray();
                Assert.True(ArrowGather.CanTake(sources[0].Data.DataType));
                var runs = sources.Select((a, k) => new GatherRun(k, 0, a.Length)).Where(r => r.Length > 0).ToArray();
                var length = runs.Sum(r => r.Length);
                if (length == 0)
                    return;
                var expected = sources.SelectMany(a => Enumerable.Range(0, a.Length).Select(i => Cell(a, i))).ToList();
                var gather = new ArrowGather(pinned: true);
                var taken = gather.Take(sources, runs, length);
                gather.Dispose();
                // What the pool hands out next is overwritten: a rented buffer handed back would show it.
                for (var i = 0; i < 64; i++)
                    System.Buffers.ArrayPool<byte>.Shared.Rent(1 << (i % 16)).AsSpan().Fill(0xA5);
                Assert.Equal(expected, Enumerable.Range(0, taken.Length).Select(i => Cell(taken, i)).ToList());
                Assert.Equal(expected.Count(c => c == "∅"), taken.NullCount);
            }, iter: 200);
    }

    [Fact]
    public void Runs_join_consecutive_rows_of_one_source_only()
    {
        long[] rows = [(0L << 32) | 5, (0L << 32) | 6, (0L << 32) | 7, (1L << 32) | 8, (0L << 32) | 8, (0L << 32) | 8, (1L << 32) | 0];
        var runs = new GatherRun[rows.Length];

        var count = ArrowGather.ToRuns(rows, runs);

        Assert.Equal([new GatherRun(0, 5, 3), new GatherRun(1, 8, 1), new GatherRun(0, 8, 1), new GatherRun(0, 8, 1), new GatherRun(1, 0, 1)], runs.Take(count));
    }

    /// <summary>A source array of <paramref name="type"/>: <paramref name="length"/> rows after <paramref name="offset"/> rows sliced off; mode 3 makes it all null.</summary>
    private static IArrowArray Source(ColumnType type, int length, int offset, int mode, int seed)
    {
        object? Value(int i)
        {
            var r = seed + i;
            if (mode == 3 || (mode != 0 && r % (mode + 3) == 0))
                return null;
            return type switch
            {
                ColumnType.Utf8 or ColumnType.Json => r % 4 == 0 ? "" : $"v{r}-é{new string('x', r % 9)}",
                ColumnType.Boolean => r % 3 == 0,
                ColumnType.Int32 => r * 7919 - 40_000,
                ColumnType.Int64 => r * 1_000_000_007L,
                ColumnType.Float64 => r * 0.25,
                ColumnType.TimestampUs => ArrowTestData.BaseTime.AddTicks(r * 10L),
                ColumnType.Date => new DateOnly(2024, 1, 1).AddDays(r % 50),
                ColumnType.Utf8List => (r % 4) switch { 0 => System.Array.Empty<string?>(), 1 => ["a"], 2 => ["b", null, $"c{r}"], _ => [$"{r}", "x", "y"] },
                ColumnType.Binary => new[] { (byte)r, (byte)(r >> 8) }.Take(r % 3).ToArray(),
                _ => throw new NotSupportedException(type.ToString()),
            };
        }
        IArrowArray array;
        if (type == ColumnType.Binary)
        {
            var b = new BinaryArray.Builder();
            for (var i = 0; i < offset + length; i++)
            {
                if (Value(i) is byte[] bytes)
                    b.Append(bytes.AsSpan());
                else
                    b.AppendNull();
            }
            array = b.Build();
        }
        else
        {
            array = ArrowTestData.BuildColumn(type, offset + length, Value);
        }
        return offset == 0 ? array : ArrowArrayFactory.Slice(array, offset, length);
    }

    /// <summary>A cell as text ("∅" for null), read through Arrow's own accessors.</summary>
    private static string Cell(IArrowArray array, int index) => array switch
    {
        _ when array.IsNull(index) => "∅",
        StringArray s => "s:" + s.GetString(index),
        BinaryArray b => "b:" + Convert.ToHexString(b.GetBytes(index)),
        _ => ArrowTestData.Show(ArrowTestData.Value(array, index)),
    };
}
