using TimeFusion.Delta.Actions;
using TimeFusion.Storage;
using TimeFusion.Tables;

namespace TimeFusion.Delta;

/// <summary>
/// Creates a Delta table: version 0 holds <c>commitInfo</c>, <c>protocol</c> (reader 1, writer 2) and
/// <c>metaData</c> (schema, partition columns, configuration with our identity keys), written put-if-absent.
/// </summary>
public static class DeltaTableCreator
{
    /// <summary>
    /// Writes version 0. Returns null (writing nothing) when the table already exists — another creator won.
    /// </summary>
    /// <param name="table">Where the table lives.</param>
    /// <param name="schemaString">The Delta schema string (e.g. <see cref="TableSchema.ToDeltaSchemaString"/>).</param>
    /// <param name="partitionColumns">Partition columns (must be top-level primitive columns of the schema).</param>
    /// <param name="configuration">Table properties; <paramref name="identity"/> is added under <c>timefusion.project</c>/<c>timefusion.table</c>.</param>
    /// <param name="identity">The (project, table) the table belongs to.</param>
    /// <param name="name">The table's display name for <c>metaData.name</c> (defaults to the table name).</param>
    /// <param name="ct">Cancellation.</param>
    public static async Task<DeltaSnapshot?> CreateAsync(DeltaTable table, string schemaString, IReadOnlyList<string> partitionColumns,
        IReadOnlyDictionary<string, string> configuration, TableId identity, string? name = null, CancellationToken ct = default)
    {
        var fields = DeltaSchemaField.ParseAll(schemaString);
        foreach (var column in partitionColumns)
        {
            var field = fields.FirstOrDefault(f => f.Name == column)
                ?? throw new ArgumentException($"partition column '{column}' is not in the schema", nameof(partitionColumns));
            if (!field.IsPrimitive) throw new ArgumentException($"partition column '{column}' must have a primitive type", nameof(partitionColumns));
        }
        var config = new Dictionary<string, string>(configuration, StringComparer.Ordinal)
        {
            [DeltaTableIdentity.ProjectKey] = identity.Project,
            [DeltaTableIdentity.TableKey] = identity.Table,
        };
        var now = table.Options.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var protocol = ProtocolAction.Default;
        var metadata = new MetadataAction
        {
            Id = Guid.NewGuid().ToString("D"),
            Name = name ?? identity.Table,
            Format = DeltaFormat.Parquet,
            SchemaString = schemaString,
            PartitionColumns = partitionColumns.ToList(),
            Configuration = config,
            CreatedTime = now,
        };
        var commitInfo = new CommitInfoAction
        {
            Timestamp = now,
            Operation = "CREATE TABLE",
            OperationParameters = new Dictionary<string, string>
            {
                ["partitionBy"] = "[" + string.Join(",", partitionColumns.Select(c => "\"" + c.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"")) + "]",
            },
            IsBlindAppend = true,
            EngineInfo = table.Options.EngineInfo,
        };
        var bytes = DeltaJson.SerializeCommit([commitInfo, protocol, metadata]);
        if (!await table.Store.PutIfAbsentAsync(DeltaLogPaths.CommitPath(table.TableRoot, 0), bytes, ct)) return null;
        var state = DeltaLogState.Empty();
        state.ApplyCommit(0, [protocol, metadata]);
        return state.Freeze(table.TableRoot, null, DeltaLogReplay.Describe(table.Store, table.TableRoot));
    }
}
