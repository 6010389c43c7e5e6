using System.Globalization;
using System.Text;
using Apache.Arrow;
using NpgsqlTypes;
using TimeFusion.Bench.Suite;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// The rows of the small-statement benchmarks (<c>INSERT … VALUES</c> of a few rows, COPY CSV): the first rows of
/// the ingest batches, reduced to the 15 columns an instrumented service typically sets, as .NET values ready for
/// Npgsql parameters or CSV. Both TimeFusion and PostgreSQL get exactly these values.
/// </summary>
public sealed class SmallRows
{
    /// <summary>The columns every statement names (project_id is left out: the session's project, or a default).</summary>
    public static readonly string[] ColumnNames =
    [
        "timestamp", "id", "parent_id", "name", "kind", "status_code", "level", "body", "duration", "start_time", "end_time",
        "context___trace_id", "context___span_id", "attributes", "resource___service___name",
    ];

    private SmallRows(ColumnType[] types, object?[][] rows, double arrowBytesPerRow)
    {
        Types = types;
        Rows = rows;
        ArrowBytesPerRow = arrowBytesPerRow;
    }

    public ColumnType[] Types { get; }

    /// <summary>Row-major values (null = SQL NULL; timestamps as UTC <see cref="DateTime"/>).</summary>
    public object?[][] Rows { get; }

    /// <summary>Arrow data bytes per row of these columns (what "Arrow data bytes" means for WAL bytes per row).</summary>
    public double ArrowBytesPerRow { get; }

    public int Count => Rows.Length;

    public static SmallRows From(IReadOnlyList<RecordBatch> batches, long maxRows)
    {
        var schema = batches[0].Schema;
        var indexes = ColumnNames.Select(n => schema.GetFieldIndex(n)).ToArray();
        if (indexes.Any(i => i < 0)) throw new InvalidOperationException("the generated batches lack a column of the small-statement benchmark");
        var types = ColumnNames.Select(n => OtelLogsAndSpans.Schema.Find(n)!.Type).ToArray();
        var rows = new List<object?[]>();
        long arrowBytes = 0;
        foreach (var batch in batches)
        {
            if (rows.Count >= maxRows) break;
            var take = (int)Math.Min(batch.Length, maxRows - rows.Count);
            var arrays = indexes.Select(i => batch.Column(i)).ToArray();
            var fields = indexes.Select(i => schema.GetFieldByIndex(i)).ToList();
            arrowBytes += ArrowSize.Of(new RecordBatch(new Schema(fields, null), arrays, batch.Length)) * take / batch.Length;
            for (var r = 0; r < take; r++)
            {
                var row = new object?[arrays.Length];
                for (var c = 0; c < arrays.Length; c++)
                    row[c] = arrays[c].IsNull(r) ? null : Value(arrays[c], types[c], r);
                rows.Add(row);
            }
        }
        return new SmallRows(types, rows.ToArray(), (double)arrowBytes / rows.Count);
    }

    private static object Value(IArrowArray array, ColumnType type, int r) => type switch
    {
        ColumnType.Utf8 or ColumnType.Json => ((StringArray)array).GetString(r),
        ColumnType.Int64 => ((Int64Array)array).GetValue(r)!.Value,
        ColumnType.TimestampUs => new DateTime(DateTime.UnixEpoch.Ticks + ((TimestampArray)array).GetValue(r)!.Value * 10, DateTimeKind.Utc),
        _ => throw new NotSupportedException(type.ToString()),
    };

    /// <summary>A prepared <c>INSERT … VALUES ($1, …), (…)</c> of <paramref name="rowsPerStatement"/> rows.</summary>
    public static string InsertSql(string table, int rowsPerStatement)
    {
        var sb = new StringBuilder($"INSERT INTO {table} ({string.Join(", ", ColumnNames)}) VALUES ");
        var p = 1;
        for (var r = 0; r < rowsPerStatement; r++)
        {
            sb.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < ColumnNames.Length; c++)
                sb.Append(c == 0 ? "" : ", ").Append('$').Append(p++);
            sb.Append(')');
        }
        return sb.ToString();
    }

    /// <summary>The parameter type of column <paramref name="c"/> (JSON as jsonb for PostgreSQL, text for TimeFusion).</summary>
    public NpgsqlDbType DbType(int c, bool jsonb) => Types[c] switch
    {
        ColumnType.Utf8 => NpgsqlDbType.Text,
        ColumnType.Json => jsonb ? NpgsqlDbType.Jsonb : NpgsqlDbType.Text,
        ColumnType.Int64 => NpgsqlDbType.Bigint,
        ColumnType.TimestampUs => NpgsqlDbType.TimestampTz,
        _ => throw new NotSupportedException(Types[c].ToString()),
    };

    /// <summary><c>COPY table (columns) FROM STDIN (FORMAT csv)</c>.</summary>
    public static string CopyCsvSql(string table) => $"COPY {table} ({string.Join(", ", ColumnNames)}) FROM STDIN (FORMAT csv)";

    /// <summary>Row <paramref name="r"/> as one CSV line (PostgreSQL's CSV: empty unquoted = NULL).</summary>
    public void AppendCsv(StringBuilder sb, int r)
    {
        var row = Rows[r];
        for (var c = 0; c < row.Length; c++)
        {
            if (c > 0) sb.Append(',');
            switch (row[c])
            {
                case null:
                    break;
                case string s:
                    sb.Append('"').Append(s.Replace("\"", "\"\"")).Append('"');
                    break;
                case long l:
                    sb.Append(l.ToString(CultureInfo.InvariantCulture));
                    break;
                case DateTime t:
                    sb.Append(t.ToString("yyyy-MM-dd HH:mm:ss.ffffff+00", CultureInfo.InvariantCulture));
                    break;
            }
        }
        sb.Append('\n');
    }
}
