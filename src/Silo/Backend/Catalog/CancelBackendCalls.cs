using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Silo.Backend.Catalog;

/// <summary>
/// <c>pg_cancel_backend(pid)</c>. The catalog database cannot reach connections, so its <c>pg_cancel_backend</c> only
/// marks its result: a one-field struct (<see cref="MarkerField"/>) holding the pid. After the statement ran, each
/// marked column becomes PostgreSQL's boolean, the cancel done per row by the session (which checks who may cancel
/// what). Describing converts the types only.
/// </summary>
internal static class CancelBackendCalls
{
    /// <summary>The marker struct's one field.</summary>
    public const string MarkerField = "__tf_cancel_backend";

    /// <summary>The catalog's function, in its dialect (strict, as PostgreSQL's: NULL in, NULL out).</summary>
    public const string CreateSql = $"CREATE MACRO tfpg.pg_cancel_backend(pid) AS {{'{MarkerField}': CAST(pid AS INTEGER)}}";

    /// <summary>
    /// The result with every marked column as booleans: <paramref name="cancel"/>(pid) for each non-null pid, in row
    /// order; with <paramref name="cancel"/> null (describing) only the schema changes and no row is read.
    /// </summary>
    public static (Schema Schema, List<RecordBatch> Batches) Apply(Schema schema, List<RecordBatch> batches, Func<int, bool>? cancel)
    {
        var marked = schema.FieldsList.Select((f, i) => IsMarker(f.DataType) ? i : -1).Where(i => i >= 0).ToHashSet();
        if (marked.Count == 0) return (schema, batches);
        var fields = schema.FieldsList.Select((f, i) => marked.Contains(i) ? new Field(f.Name, BooleanType.Default, true) : f).ToList();
        var converted = new Schema(fields, schema.Metadata);
        if (cancel is null)
        {
            foreach (var b in batches) b.Dispose();
            return (converted, []);
        }
        var result = new List<RecordBatch>(batches.Count);
        foreach (var batch in batches)
        {
            // The new batch takes over the kept columns (disposing it disposes them); the marker columns go now.
            var columns = new IArrowArray[batch.ColumnCount];
            for (var c = 0; c < columns.Length; c++)
            {
                if (!marked.Contains(c))
                {
                    columns[c] = batch.Column(c);
                    continue;
                }
                using var marks = (StructArray)batch.Column(c);
                columns[c] = Cancel(marks, cancel);
            }
            result.Add(new RecordBatch(converted, columns, batch.Length));
        }
        return (converted, result);
    }

    private static bool IsMarker(IArrowType type) =>
        type is StructType { Fields.Count: 1 } s && s.Fields[0].Name == MarkerField;

    private static BooleanArray Cancel(StructArray marks, Func<int, bool> cancel)
    {
        var pids = (Int32Array)marks.Fields[0];
        var builder = new BooleanArray.Builder();
        for (var i = 0; i < marks.Length; i++)
        {
            if (marks.IsNull(i) || pids.GetValue(i) is not { } pid) builder.AppendNull();
            else builder.Append(cancel(pid));
        }
        return builder.Build();
    }
}
