using Apache.Arrow;
using CsCheck;
using TimeFusion.Buffer;

namespace TimeFusion.Tests.Buffer;

/// <summary>Which columns an export writes without a dictionary: those whose sampled values are at least 90 % distinct.</summary>
public sealed class NearlyUniqueColumnsTests
{
    private static RecordBatch Batch(params IArrowArray[] columns) =>
        new(new Schema(columns.Select((c, i) => new Field("c" + i, c.Data.DataType, nullable: true)), null), columns, columns[0].Length);

    private static StringArray Strings(int rows, Func<int, string?> value)
    {
        var b = new StringArray.Builder();
        for (var i = 0; i < rows; i++)
        {
            if (value(i) is { } s)
                b.Append(s);
            else
                b.AppendNull();
        }
        return b.Build();
    }

    [Fact]
    public void Unique_ids_and_timestamps_are_nearly_unique_repeated_names_and_booleans_are_not()
    {
        var longs = new Int64Array.Builder();
        var bools = new BooleanArray.Builder();
        for (var i = 0; i < 2_000; i++)
        {
            longs.Append(1_700_000_000_000_000L + i * 10_000L);
            bools.Append(i % 2 == 0);
        }
        var batch = Batch(Strings(2_000, i => $"id-{i}"), Strings(2_000, i => $"GET /items/{i % 101}"), longs.Build(), bools.Build());

        Assert.True(NearlyUniqueColumns.Test([batch], 0));
        Assert.False(NearlyUniqueColumns.Test([batch], 1));
        Assert.True(NearlyUniqueColumns.Test([batch], 2));
        Assert.False(NearlyUniqueColumns.Test([batch], 3));
    }

    [Fact]
    public void Nulls_are_left_out_of_the_sample_and_a_small_sample_keeps_the_dictionary()
    {
        // 300 distinct values among 3,000 rows, the rest NULL: judged on the 300 (distinct), enough to decide.
        var sparse = Strings(3_000, i => i % 10 == 0 ? $"v{i}" : null);
        Assert.True(NearlyUniqueColumns.Test([Batch(sparse)], 0));
        // Too few values to judge (below MinSample): the dictionary stays.
        var few = Strings(NearlyUniqueColumns.MinSample - 1, i => $"v{i}");
        Assert.False(NearlyUniqueColumns.Test([Batch(few)], 0));
    }

    [Fact]
    public void The_sample_spans_batches_in_order()
    {
        // Small batches of distinct values: together a full sample.
        var batches = Enumerable.Range(0, 20).Select(k => Batch(Strings(100, i => $"row-{k * 100 + i}"))).ToList();
        Assert.True(NearlyUniqueColumns.Test(batches, 0));
        // Distinct first batches, then repeats: only the first SampleSize values count.
        var mixed = new List<RecordBatch> { Batch(Strings(NearlyUniqueColumns.SampleSize, i => $"u{i}")), Batch(Strings(5_000, _ => "same")) };
        Assert.True(NearlyUniqueColumns.Test(mixed, 0));
    }

    [Fact]
    public void The_decision_is_the_share_of_distinct_values_in_the_sample()
    {
        // Random columns of n values drawn from k distinct ones: nearly unique exactly when the sample is ≥ 90 % distinct
        // and big enough, counted here independently of the implementation.
        Gen.Select(Gen.Int[1, 3_000], Gen.Int[1, 3_000], Gen.Int[0, int.MaxValue]).Sample((rows, distinct, seed) =>
        {
            var random = new Random(seed);
            var values = Enumerable.Range(0, rows).Select(_ => "k" + random.Next(distinct)).ToArray();
            var sample = values.Take(NearlyUniqueColumns.SampleSize).ToArray();
            var expected = sample.Length >= NearlyUniqueColumns.MinSample && sample.Distinct().Count() * 10 >= sample.Length * 9;
            Assert.Equal(expected, NearlyUniqueColumns.Test([Batch(Strings(rows, i => values[i]))], 0));
        }, iter: 200);
    }
}
