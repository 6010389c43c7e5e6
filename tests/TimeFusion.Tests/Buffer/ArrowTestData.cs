using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

/// <summary>Builds Arrow batches for a table schema from per-cell values, and reads Arrow cells back as plain values.</summary>
internal static class ArrowTestData
{
    public static readonly DateTimeOffset BaseTime = new(2024, 3, 5, 10, 0, 0, TimeSpan.Zero);

    /// <summary>A batch of the canonical Arrow types of <paramref name="schema"/>.</summary>
    public static RecordBatch Build(TableSchema schema, int rows, Func<ColumnDefinition, int, object?> value)
    {
        var arrays = new List<IArrowArray>();
        foreach (var column in schema.Columns)
            arrays.Add(BuildColumn(column.Type, rows, i => value(column, i)));
        return new RecordBatch(schema.ToArrowSchema(), arrays, rows);
    }

    public static IArrowArray BuildColumn(ColumnType type, int rows, Func<int, object?> value)
    {
        switch (type)
        {
            case ColumnType.Utf8 or ColumnType.Json:
            {
                var b = new StringArray.Builder();
                for (var i = 0; i < rows; i++)
                {
                    if (value(i) is string s)
                        b.Append(s);
                    else
                        b.AppendNull();
                }
                return b.Build();
            }
            case ColumnType.Boolean:
            {
                var b = new BooleanArray.Builder();
                for (var i = 0; i < rows; i++)
                {
                    if (value(i) is bool v)
                        b.Append(v);
                    else
                        b.AppendNull();
                }
                return b.Build();
            }
            case ColumnType.Int32:
            {
                var b = new Int32Array.Builder();
                for (var i = 0; i < rows; i++)
                {
                    if (value(i) is int v)
                        b.Append(v);
                    else
                        b.AppendNull();
                }
                return b.Build();
            }
            case ColumnType.Int64:
            {
                var b = new Int64Array.Builder();
                for (var i = 0; i < rows; i++)
                {
                    if (value(i) is long v)
                        b.Append(v);
                    else
                        b.AppendNull();
                }
                return b.Build();
            }
            case ColumnType.Float64:
            {
                var b = new DoubleArray.Builder();
                for (var i = 0; i < rows; i++)
                {
                    if (value(i) is double v)
                        b.Append(v);
                    else
                        b.AppendNull();
                }
                return b.Build();
            }
            case ColumnType.TimestampUs:
            {
                var b = new TimestampArray.Builder((TimestampType)ColumnTypeMapping.ToArrow(ColumnType.TimestampUs));
                for (var i = 0; i < rows; i++)
                {
                    if (value(i) is DateTimeOffset v)
                        b.Append(v);
                    else
                        b.AppendNull();
                }
                return b.Build();
            }
            case ColumnType.Date:
            {
                var b = new Date32Array.Builder();
                for (var i = 0; i < rows; i++)
                {
                    if (value(i) is DateOnly v)
                        b.Append(v);
                    else
                        b.AppendNull();
                }
                return b.Build();
            }
            case ColumnType.Utf8List:
            {
                var b = new ListArray.Builder(StringType.Default);
                var items = (StringArray.Builder)b.ValueBuilder;
                for (var i = 0; i < rows; i++)
                {
                    if (value(i) is string?[] list)
                    {
                        b.Append();
                        foreach (var item in list)
                        {
                            if (item is null)
                                items.AppendNull();
                            else
                                items.Append(item);
                        }
                    }
                    else
                    {
                        b.AppendNull();
                    }
                }
                return b.Build();
            }
            default:
                throw new NotSupportedException(type.ToString());
        }
    }

    /// <summary>A cell as a plain value: string, bool, int, long, double, DateTimeOffset (UTC), DateOnly, string?[] or null.</summary>
    public static object? Value(IArrowArray array, int index)
    {
        if (array.IsNull(index))
            return null;
        return array switch
        {
            StringArray s => s.GetString(index),
            LargeStringArray s => s.GetString(index),
            StringViewArray s => s.GetString(index),
            DictionaryArray d => Value(d.Dictionary, ReadIndex(d.Indices, index)),
            BooleanArray b => b.GetValue(index),
            Int32Array a => a.GetValue(index),
            Int64Array a => a.GetValue(index),
            DoubleArray a => a.GetValue(index),
            TimestampArray t => t.GetTimestamp(index),
            Date32Array d => DateOnly.FromDateTime(d.GetDateTime(index)!.Value),
            ListArray l => ListValue(l, index),
            _ => throw new NotSupportedException(array.GetType().Name),
        };
    }

    private static int ReadIndex(IArrowArray indices, int index) => indices switch
    {
        Int8Array a => a.GetValue(index)!.Value,
        Int16Array a => a.GetValue(index)!.Value,
        Int32Array a => a.GetValue(index)!.Value,
        Int64Array a => checked((int)a.GetValue(index)!.Value),
        UInt8Array a => a.GetValue(index)!.Value,
        UInt16Array a => a.GetValue(index)!.Value,
        UInt32Array a => checked((int)a.GetValue(index)!.Value),
        _ => throw new NotSupportedException(indices.GetType().Name),
    };

    private static string?[] ListValue(ListArray list, int index)
    {
        var values = list.Values;
        var start = list.ValueOffsets[index];
        var end = list.ValueOffsets[index + 1];
        var result = new string?[end - start];
        for (var i = start; i < end; i++)
            result[i - start] = (string?)Value(values, i);
        return result;
    }

    /// <summary>All rows of the batches as arrays of plain values.</summary>
    public static List<object?[]> Rows(IEnumerable<RecordBatch> batches)
    {
        var rows = new List<object?[]>();
        foreach (var batch in batches)
        {
            for (var r = 0; r < batch.Length; r++)
            {
                var row = new object?[batch.ColumnCount];
                for (var c = 0; c < batch.ColumnCount; c++)
                    row[c] = Value(batch.Column(c), r);
                rows.Add(row);
            }
        }
        return rows;
    }

    /// <summary>Rows of one batch.</summary>
    public static List<object?[]> Rows(RecordBatch batch) => Rows([batch]);

    /// <summary>Compares two cells; lists element by element.</summary>
    public static bool CellEquals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (string?[] x, string?[] y) => x.SequenceEqual(y),
        (DateTimeOffset x, DateTimeOffset y) => x.UtcTicks == y.UtcTicks,
        _ => Equals(a, b),
    };

    public static string Show(object? v) => v switch
    {
        null => "null",
        string?[] l => "[" + string.Join(",", l.Select(x => x ?? "null")) + "]",
        DateTimeOffset t => t.UtcDateTime.ToString("O"),
        _ => v.ToString() ?? "",
    };

    /// <summary>Asserts two row lists are equal cell by cell, naming the first difference.</summary>
    public static void AssertRowsEqual(IReadOnlyList<object?[]> expected, IReadOnlyList<object?[]> actual, IReadOnlyList<string> columnNames)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var r = 0; r < expected.Count; r++)
        {
            Assert.Equal(expected[r].Length, actual[r].Length);
            for (var c = 0; c < expected[r].Length; c++)
            {
                if (!CellEquals(expected[r][c], actual[r][c]))
                    Assert.Fail($"row {r}, column '{columnNames[c]}': expected {Show(expected[r][c])}, got {Show(actual[r][c])}");
            }
        }
    }

    /// <summary>
    /// Deterministic values for every column type of a schema: nulls in nullable columns every 7th row,
    /// empty lists, lists holding nulls, non-ASCII text, JSON text, negative and extreme numbers, microsecond timestamps.
    /// Column "id" is <c>id-{row:D6}</c>, usable for ordering.
    /// </summary>
    public static object? OtelValue(ColumnDefinition column, int row, int seed = 0)
    {
        var r = row + seed;
        if (column.Name == "id")
            return $"id-{row:D6}";
        if (column.Name == TableSchema.ProjectColumn)
            return "project-α";
        if (column.Name == TableSchema.TimestampColumn)
            return BaseTime.AddTicks(r * 10L * 1234567);
        if (column.Name == TableSchema.DateColumn)
            return DateOnly.FromDateTime(BaseTime.AddTicks(r * 10L * 1234567).UtcDateTime);
        if (column.Nullable && (r + column.Name.Length) % 7 == 0)
            return null;
        return column.Type switch
        {
            ColumnType.Utf8 => (r % 5) switch
            {
                0 => "",
                1 => $"{column.Name}-{r}",
                2 => $"héllo wörld ✓ {r} 日本語",
                3 => new string('x', 40 + r % 50),
                _ => $"v{r % 3}",
            },
            ColumnType.Json => $"{{\"k\":{r},\"s\":\"t\\\"q {r % 3}\",\"a\":[1,2,{r % 10}]}}",
            ColumnType.Boolean => r % 2 == 0,
            ColumnType.Int32 => (r % 4) switch { 0 => int.MinValue + r, 1 => int.MaxValue - r, 2 => 0, _ => r * 37 - 500 },
            ColumnType.Int64 => (r % 3) switch { 0 => long.MaxValue - r, 1 => -r * 1_000_000_007L, _ => (long)r },
            ColumnType.Float64 => r * 0.5 - 3,
            ColumnType.TimestampUs => BaseTime.AddTicks(-r * 10L * 987654 + 10),
            ColumnType.Date => new DateOnly(2023, 1, 1).AddDays(r % 400),
            ColumnType.Utf8List => (r % 4) switch
            {
                0 => System.Array.Empty<string?>(),
                1 => new string?[] { $"h{r}" },
                2 => new string?[] { "a", null, $"ü{r}" },
                _ => new string?[] { "x", "y", "z", $"{r}" },
            },
            _ => throw new NotSupportedException(column.Type.ToString()),
        };
    }
}
