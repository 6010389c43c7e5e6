using Apache.Arrow;
using Apache.Arrow.Arrays;
using DuckDB.NET.Data;
using TimeFusion.Silo.Protocol.Postgres;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>Appends Arrow batches row by row through a DuckDB appender (test backend only).</summary>
internal static class DuckDbArrowAppend
{
    public static void Append(DuckDBAppender appender, RecordBatch batch)
    {
        var columns = batch.Arrays.Select(a => a is ExtensionArray e ? e.Storage : a).ToArray();
        var fields = batch.Schema.FieldsList;
        for (var row = 0; row < batch.Length; row++)
        {
            var r = appender.CreateRow();
            for (var c = 0; c < columns.Length; c++)
            {
                AppendValue(r, columns[c], fields[c], row);
            }
            r.EndRow();
        }
    }

    private static void AppendValue(IDuckDBAppenderRow r, IArrowArray array, Field field, int row)
    {
        if (array.IsNull(row))
        {
            r.AppendNullValue();
            return;
        }
        switch (array)
        {
            case BooleanArray a: r.AppendValue(a.GetValue(row)); break;
            case Int8Array a when PgArrowMetadata.IsBool8(field): r.AppendValue(a.Values[row] != 0); break;
            case Int8Array a: r.AppendValue(a.Values[row]); break;
            case Int16Array a: r.AppendValue(a.Values[row]); break;
            case Int32Array a: r.AppendValue(a.Values[row]); break;
            case Int64Array a: r.AppendValue(a.Values[row]); break;
            case FloatArray a: r.AppendValue(a.Values[row]); break;
            case DoubleArray a: r.AppendValue(a.Values[row]); break;
            case Decimal128Array a: r.AppendValue(a.GetValue(row)); break;
            case StringArray a: r.AppendValue(a.GetString(row)); break;
            case BinaryArray a: r.AppendValue(a.GetBytes(row).ToArray()); break;
            case Date32Array a: r.AppendValue(DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + a.Values[row])); break;
            case TimestampArray a:
            {
                var ts = (Apache.Arrow.Types.TimestampType)a.Data.DataType;
                var micros = ts.Unit switch
                {
                    Apache.Arrow.Types.TimeUnit.Second => a.Values[row] * 1_000_000,
                    Apache.Arrow.Types.TimeUnit.Millisecond => a.Values[row] * 1000,
                    Apache.Arrow.Types.TimeUnit.Nanosecond => a.Values[row] / 1000,
                    _ => a.Values[row],
                };
                var dt = new DateTime(DateTime.UnixEpoch.Ticks + micros * 10, string.IsNullOrEmpty(ts.Timezone) ? DateTimeKind.Unspecified : DateTimeKind.Utc);
                r.AppendValue(dt);
                break;
            }
            case Time64Array a: r.AppendValue(new TimeOnly(a.Values[row] * 10)); break;
            case FixedSizeBinaryArray a when PgArrowMetadata.IsUuid(field): r.AppendValue(new Guid(a.GetBytes(row), bigEndian: true)); break;
            case ListArray a:
            {
                var values = (StringArray)a.Values;
                var list = new List<string?>();
                for (var i = a.ValueOffsets[row]; i < a.ValueOffsets[row + 1]; i++)
                {
                    list.Add(values.IsNull(i) ? null : values.GetString(i));
                }
                r.AppendValue((IEnumerable<string?>)list);
                break;
            }
            default:
                throw new NotSupportedException($"test backend cannot append {array.GetType().Name}");
        }
    }
}
