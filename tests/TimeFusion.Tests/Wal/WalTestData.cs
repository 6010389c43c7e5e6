using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Tests.Wal;

/// <summary>Arrow batches with every nesting the WAL must carry, and a value renderer to compare them.</summary>
public static class WalTestData
{
    /// <summary>
    /// A batch with int64, nullable Unicode utf8, list&lt;utf8&gt;, struct{code,msg}, map&lt;utf8,int64&gt;,
    /// dictionary&lt;int32,utf8&gt;, timestamp[us, UTC], bool and double columns, with nulls in most of them.
    /// </summary>
    public static RecordBatch ComplexBatch(int rows, int seed)
    {
        var random = new Random(seed);
        var ids = new Int64Array.Builder();
        var names = new StringArray.Builder();
        var tags = new ListArray.Builder(StringType.Default);
        var tagValues = (StringArray.Builder)tags.ValueBuilder;
        var codes = new Int32Array.Builder();
        var messages = new StringArray.Builder();
        var structValidity = new ArrowBuffer.BitmapBuilder();
        var mapType = new MapType(StringType.Default, Int64Type.Default);
        var labels = new MapArray.Builder(mapType);
        var labelKeys = (StringArray.Builder)labels.KeyBuilder;
        var labelValues = (Int64Array.Builder)labels.ValueBuilder;
        var levelIndices = new Int32Array.Builder();
        var timestamps = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        var oks = new BooleanArray.Builder();
        var scores = new DoubleArray.Builder();
        var structNulls = 0;
        for (var i = 0; i < rows; i++)
        {
            ids.Append(seed * 1_000_000L + i);
            if (random.Next(5) == 0) names.AppendNull();
            else names.Append($"name-{seed}-{i}-ü€𝄞/..");
            if (random.Next(6) == 0)
            {
                tags.AppendNull();
            }
            else
            {
                tags.Append();
                for (var t = random.Next(4); t > 0; t--) tagValues.Append($"t{random.Next(100)}");
            }
            var structValid = random.Next(7) != 0;
            structValidity.Append(structValid);
            if (!structValid) structNulls++;
            codes.Append(random.Next(600));
            if (random.Next(4) == 0) messages.AppendNull();
            else messages.Append($"msg {i}");
            if (random.Next(8) == 0)
            {
                labels.AppendNull();
            }
            else
            {
                labels.Append();
                for (var k = random.Next(3); k > 0; k--)
                {
                    labelKeys.Append($"k{k}");
                    labelValues.Append(random.Next(1000));
                }
            }
            if (random.Next(9) == 0) levelIndices.AppendNull();
            else levelIndices.Append(random.Next(Levels.Length));
            timestamps.Append(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000L + seed * 1000L + i));
            if (random.Next(10) == 0) oks.AppendNull();
            else oks.Append(random.Next(2) == 0);
            scores.Append(random.NextDouble() * 100);
        }
        var structType = new StructType([new Field("code", Int32Type.Default, false), new Field("msg", StringType.Default, true)]);
        var attrs = new StructArray(structType, rows, [codes.Build(), messages.Build()], structValidity.Build(), structNulls);
        var levelsType = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var levelDictionary = new StringArray.Builder().AppendRange(Levels).Build();
        var level = new DictionaryArray(levelsType, levelIndices.Build(), levelDictionary);
        var schema = new Schema.Builder()
            .Field(new Field("id", Int64Type.Default, false))
            .Field(new Field("name", StringType.Default, true))
            .Field(new Field("tags", new ListType(StringType.Default), true))
            .Field(new Field("attrs", structType, true))
            .Field(new Field("labels", mapType, true))
            .Field(new Field("level", levelsType, true))
            .Field(new Field("ts", new TimestampType(TimeUnit.Microsecond, "UTC"), false))
            .Field(new Field("ok", BooleanType.Default, true))
            .Field(new Field("score", DoubleType.Default, false))
            .Build();
        return new RecordBatch(schema,
            [ids.Build(), names.Build(), tags.Build(), attrs, labels.Build(), level, timestamps.Build(), oks.Build(), scores.Build()], rows);
    }

    private static readonly string[] Levels = ["debug", "info", "warn", "error"];

    /// <summary>A small batch of a different schema (as after ALTER TABLE): id int64 and a new utf8 column.</summary>
    public static RecordBatch EvolvedBatch(int rows)
    {
        var ids = new Int64Array.Builder();
        var extra = new StringArray.Builder();
        for (var i = 0; i < rows; i++)
        {
            ids.Append(i);
            extra.Append($"extra {i}");
        }
        var schema = new Schema.Builder()
            .Field(new Field("id", Int64Type.Default, false))
            .Field(new Field("added_later", StringType.Default, true))
            .Build();
        return new RecordBatch(schema, [ids.Build(), extra.Build()], rows);
    }

    /// <summary>Every row of a batch rendered as text, with the schema (names and types) first.</summary>
    public static List<string> Render(RecordBatch batch)
    {
        var lines = new List<string>
        {
            string.Join(", ", batch.Schema.FieldsList.Select(f => $"{f.Name}:{f.DataType.Name}:{f.IsNullable}")),
        };
        for (var r = 0; r < batch.Length; r++)
        {
            lines.Add(string.Join(" | ", Enumerable.Range(0, batch.ColumnCount).Select(c => Value(batch.Column(c), r))));
        }
        return lines;
    }

    /// <summary>One value as text, recursively.</summary>
    public static string Value(IArrowArray array, int i)
    {
        if (array.IsNull(i)) return "null";
        switch (array)
        {
            case Int64Array a: return a.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture);
            case Int32Array a: return a.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture);
            case StringArray a: return '"' + a.GetString(i) + '"';
            case BinaryArray a: return "0x" + Convert.ToHexString(a.GetBytes(i));
            case Int16Array a: return a.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture);
            case UInt8Array a: return a.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture);
            case FloatArray a: return a.GetValue(i)!.Value.ToString("R", CultureInfo.InvariantCulture);
            case Date32Array a: return "d" + a.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture);
            case BooleanArray a: return a.GetValue(i)!.Value ? "true" : "false";
            case DoubleArray a: return a.GetValue(i)!.Value.ToString("R", CultureInfo.InvariantCulture);
            case TimestampArray a: return a.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture);
            case MapArray m:
            {
                var sb = new StringBuilder("{");
                for (var k = m.ValueOffsets[i]; k < m.ValueOffsets[i + 1]; k++)
                    sb.Append(Value(m.Keys, k)).Append(':').Append(Value(m.Values, k)).Append(',');
                return sb.Append('}').ToString();
            }
            case ListArray l:
            {
                var parts = new List<string>();
                for (var k = l.ValueOffsets[i]; k < l.ValueOffsets[i + 1]; k++) parts.Add(Value(l.Values, k));
                return "[" + string.Join(",", parts) + "]";
            }
            case StructArray s:
                return "(" + string.Join(",", s.Fields.Select(f => Value(f, i))) + ")";
            case DictionaryArray d:
            {
                var index = d.Indices switch
                {
                    Int32Array ints => ints.GetValue(i)!.Value,
                    _ => throw new NotSupportedException(d.Indices.GetType().Name),
                };
                return "dict:" + Value(d.Dictionary, index);
            }
            default:
                throw new NotSupportedException(array.GetType().Name);
        }
    }
}
