using System.Text;
using Apache.Arrow;
using CsCheck;
using TimeFusion.Silo.Protocol.Otlp.Mapping;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Otlp;

/// <summary>
/// The OTLP receiver's pooled column builders (<see cref="ColumnarRows"/>) against a plain model: whatever the sequence of
/// sets, repeated sets (first wins), abandoned rows, sparse columns and values larger than the pre-sized buffers, the batch
/// holds exactly the rows the model holds; and the per-export ids (<see cref="LogsAndSpansRows.NewId"/>) are distinct,
/// ordered version-7 UUIDs.
/// </summary>
public sealed class ColumnarRowsPropertyTests
{
    private static readonly int[] Columns = [LogsAndSpansRows.Name, LogsAndSpansRows.Body, LogsAndSpansRows.Duration, LogsAndSpansRows.SeverityNumberColumn, LogsAndSpansRows.IsRemote];

    private sealed record Set(int Column, string Text, long Number, bool Flag);

    private sealed record Row(Set[] Sets, bool Abandoned);

    private static readonly Gen<Set> GenSet = Gen.Select(Gen.Int[0, Columns.Length - 1], Gen.String[0, 300], Gen.Long, Gen.Bool)
        .Select((c, t, n, f) => new Set(c, t, n, f));

    private static readonly Gen<Row[]> GenRows = Gen.Select(GenSet.Array[0, 8], Gen.Int[0, 9]).Select((s, a) => new Row(s, a == 0)).Array[0, 150];

    [Fact]
    public void The_batch_holds_exactly_the_rows_of_the_model() =>
        Gen.Select(GenRows, Gen.Int[1, 200]).Sample((rows, expected) =>
        {
            using var built = new ColumnarRows(OtelLogsAndSpans.Schema, expected);
            var model = new List<Dictionary<int, object>>();
            foreach (var row in rows)
            {
                var values = new Dictionary<int, object>();
                foreach (var set in row.Sets)
                {
                    var column = Columns[set.Column];
                    object value;
                    switch (set.Column)
                    {
                        case 0: built.String(column, set.Text); value = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(set.Text)); break;
                        case 1: built.Utf8(column, Encoding.UTF8.GetBytes(set.Text)); value = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(set.Text)); break;
                        case 2: built.Int64(column, set.Number); value = set.Number; break;
                        case 3: built.Int32(column, (int)set.Number); value = (int)set.Number; break;
                        default: built.Boolean(column, set.Flag); value = set.Flag; break;
                    }
                    values.TryAdd(column, value); // the first set of a row wins
                }
                if (row.Abandoned) built.AbandonRow();
                else
                {
                    built.EndRow();
                    model.Add(values);
                }
            }
            Assert.Equal(model.Count, built.Count);
            if (model.Count == 0) return;
            using var batch = built.Build();
            Assert.Equal(model.Count, batch.Length);
            foreach (var column in Columns)
            {
                var name = OtelLogsAndSpans.Schema.Columns[column].Name;
                var index = batch.Schema.GetFieldIndex(name);
                var everSet = model.Any(r => r.ContainsKey(column));
                // A column is in the batch when some kept row set it (one only abandoned rows set is left out, as if unset).
                Assert.Equal(everSet, index >= 0);
                if (index < 0) continue;
                var array = batch.Column(index);
                Assert.Equal(model.Count(r => !r.ContainsKey(column)), array.NullCount);
                for (var i = 0; i < model.Count; i++)
                {
                    object? actual = array switch
                    {
                        StringArray s => s.GetString(i),
                        Int64Array l => l.GetValue(i),
                        Int32Array n => n.GetValue(i),
                        BooleanArray b => b.GetValue(i),
                        _ => throw new InvalidOperationException(array.GetType().Name),
                    };
                    Assert.Equal(model[i].GetValueOrDefault(column), actual);
                }
            }
        }, iter: 300);

    [Fact]
    public void Ids_of_an_export_are_distinct_ordered_version_7_uuids()
    {
        var rows = new LogsAndSpansRows(4);
        using var buffers = rows.Rows;
        for (var i = 0; i < 10_000; i++)
        {
            rows.NewId();
            rows.Rows.EndRow();
        }
        using var batch = rows.Rows.Build();
        var ids = (StringArray)batch.Column(batch.Schema.GetFieldIndex("id"));
        var parsed = Enumerable.Range(0, ids.Length).Select(i => Guid.Parse(ids.GetString(i))).ToList();
        Assert.Equal(10_000, parsed.Distinct().Count());
        Assert.All(parsed, g => Assert.Equal(7, g.Version));
        Assert.All(parsed, g => Assert.Equal(0b10, g.Variant >> 2));
        Assert.Equal(parsed.Select(g => g.ToString()).Order(StringComparer.Ordinal), parsed.Select(g => g.ToString()));
        var other = new LogsAndSpansRows(1);
        using var otherBuffers = other.Rows;
        other.NewId();
        other.Rows.EndRow();
        using var otherBatch = other.Rows.Build();
        Assert.DoesNotContain(Guid.Parse(((StringArray)otherBatch.Column(0)).GetString(0)), parsed);
    }
}
