using TimeFusion.Engine;
using TimeFusion.Grains;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query;

/// <summary>Runs a grain's part of a query over its snapshot: the table name bound to buffer rows plus Delta files.</summary>
internal static class GrainQueryRunner
{
    public static async Task<ArrowBatches> RunAsync(TableSnapshot snapshot, IObjectStore store, TableSchema schema, GrainQuery query)
    {
        var columns = string.Join(", ", schema.Columns.Select(c => SqlNames.Quote(c.Name)));
        var relation = $"SELECT {columns} FROM {snapshot.Buffer.Relation}";
        if (snapshot.Delta.Files.Count > 0)
        {
            var files = new List<string>(snapshot.Delta.Files.Count);
            foreach (var add in snapshot.Delta.Files) files.Add(SqlNames.Literal(await store.GetLocalPathAsync(snapshot.Delta.ObjectPath(add))));
            relation += $" UNION ALL SELECT {columns} FROM read_parquet([{string.Join(", ", files)}], hive_partitioning = true, hive_types = {{'date': DATE}})";
        }
        var sql = $"WITH {SqlNames.Quote(schema.Name)} AS ({relation}) {query.Sql}";
        using var result = snapshot.Buffer.QueryArrow(sql);
        var batches = result.ReadAll().ToList();
        return new ArrowBatches(result.Schema, batches);
    }
}
