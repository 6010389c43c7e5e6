using Apache.Arrow;
using Apache.Arrow.Types;
using Npgsql;
using NpgsqlTypes;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Peers;

/// <summary>
/// Writes the rows of Arrow batches into a PostgreSQL binary COPY (<see cref="NpgsqlBinaryImporter"/>), column by
/// column in the order of <see cref="Columns"/>; optionally a constant <c>project_id</c> at the end (the batches
/// carry none). Used for PostgreSQL and for TimeFusion's own COPY endpoint.
/// </summary>
public sealed class ArrowCopyWriter
{
    private readonly (int Index, ColumnType Type)[] _columns;
    private readonly bool _jsonb;
    private readonly string? _project;

    public IReadOnlyList<string> Columns { get; }

    /// <param name="batchSchema">The batches' schema.</param>
    /// <param name="skip">Columns not written (e.g. <c>date</c>, which TimeFusion derives).</param>
    /// <param name="jsonb">Write JSON columns as jsonb (PostgreSQL) rather than text (TimeFusion).</param>
    /// <param name="project">A constant project_id appended as the last column, or null.</param>
    public ArrowCopyWriter(Schema batchSchema, IReadOnlySet<string> skip, bool jsonb, string? project)
    {
        var table = OtelLogsAndSpans.Schema;
        _columns = batchSchema.FieldsList.Select((f, i) => (f, i))
            .Where(x => !skip.Contains(x.f.Name))
            .Select(x => (x.i, table.Find(x.f.Name)?.Type ?? throw new InvalidOperationException($"unknown column {x.f.Name}")))
            .ToArray();
        Columns = _columns.Select(c => batchSchema.FieldsList[c.Index].Name).Concat(project is null ? [] : [TableSchema.ProjectColumn]).ToList();
        _jsonb = jsonb;
        _project = project;
    }

    public string CopyStatement(string table) => $"COPY {table} ({string.Join(", ", Columns)}) FROM STDIN (FORMAT BINARY)";

    public void Write(NpgsqlBinaryImporter copy, RecordBatch batch)
    {
        var arrays = _columns.Select(c => batch.Column(c.Index)).ToArray();
        for (var r = 0; r < batch.Length; r++)
        {
            copy.StartRow();
            for (var c = 0; c < arrays.Length; c++)
            {
                var array = arrays[c];
                if (array.IsNull(r))
                {
                    copy.WriteNull();
                    continue;
                }
                switch (_columns[c].Type)
                {
                    case ColumnType.Utf8:
                        copy.Write(((StringArray)array).GetString(r), NpgsqlDbType.Text);
                        break;
                    case ColumnType.Json:
                        copy.Write(((StringArray)array).GetString(r), _jsonb ? NpgsqlDbType.Jsonb : NpgsqlDbType.Text);
                        break;
                    case ColumnType.Boolean:
                        copy.Write(((BooleanArray)array).GetValue(r)!.Value, NpgsqlDbType.Boolean);
                        break;
                    case ColumnType.Int32:
                        copy.Write(((Int32Array)array).GetValue(r)!.Value, NpgsqlDbType.Integer);
                        break;
                    case ColumnType.Int64:
                        copy.Write(((Int64Array)array).GetValue(r)!.Value, NpgsqlDbType.Bigint);
                        break;
                    case ColumnType.Float64:
                        copy.Write(((DoubleArray)array).GetValue(r)!.Value, NpgsqlDbType.Double);
                        break;
                    case ColumnType.TimestampUs:
                        copy.Write(new DateTime(DateTime.UnixEpoch.Ticks + ((TimestampArray)array).GetValue(r)!.Value * 10, DateTimeKind.Utc), NpgsqlDbType.TimestampTz);
                        break;
                    case ColumnType.Date:
                        copy.Write(DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + ((Date32Array)array).GetValue(r)!.Value), NpgsqlDbType.Date);
                        break;
                    case ColumnType.Utf8List:
                        copy.Write(ListValues((ListArray)array, r), NpgsqlDbType.Array | NpgsqlDbType.Text);
                        break;
                    default:
                        throw new NotSupportedException(_columns[c].Type.ToString());
                }
            }
            if (_project is not null) copy.Write(_project, NpgsqlDbType.Text);
        }
    }

    private static string[] ListValues(ListArray list, int row)
    {
        var values = (StringArray)list.Values;
        var start = list.ValueOffsets[row];
        var end = list.ValueOffsets[row + 1];
        var result = new string[end - start];
        for (var i = start; i < end; i++) result[i - start] = values.GetString(i);
        return result;
    }

    /// <summary>PostgreSQL DDL of the table (JSON as jsonb).</summary>
    public static string PostgresTable(string name) =>
        $"CREATE TABLE {name} (" + string.Join(", ", OtelLogsAndSpans.Schema.Columns.Select(c => $"{c.Name} {PostgresType(c.Type)}")) + ")";

    private static string PostgresType(ColumnType type) => type switch
    {
        ColumnType.Utf8 => "text",
        ColumnType.Json => "jsonb",
        ColumnType.Boolean => "boolean",
        ColumnType.Int32 => "integer",
        ColumnType.Int64 => "bigint",
        ColumnType.Float64 => "double precision",
        ColumnType.TimestampUs => "timestamptz",
        ColumnType.Date => "date",
        ColumnType.Utf8List => "text[]",
        _ => throw new NotSupportedException(type.ToString()),
    };
}
