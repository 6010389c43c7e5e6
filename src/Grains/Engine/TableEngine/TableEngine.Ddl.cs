using TimeFusion.Storage;
using TimeFusion.Tables;

namespace TimeFusion.Engine;

/// <summary>DDL over a table's storage: <c>DROP TABLE</c> removes what <see cref="OpenAsync"/> would find again.</summary>
public sealed partial class TableEngine
{
    /// <summary>
    /// Deletes every object of one (project, table): its Delta table (log, checkpoints, data files) and its WAL
    /// segments. The table's engine must be closed (disposed) first; a later <see cref="OpenAsync"/> of the same id
    /// creates an empty table, so a table re-created under the same name reads none of the old rows.
    /// Returns the objects deleted.
    /// </summary>
    public static async Task<int> DeleteStorageAsync(TableId id, EngineServices services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        var deleted = 0;
        // The WAL first: a Delta table without its WAL opens empty, but a WAL without its Delta would replay old rows.
        var wal = services.Wal.GetDirectory(StoragePathNames.WalRoot(id));
        foreach (var file in await wal.ListAsync(cancellationToken))
        {
            await wal.DeleteAsync(file.Name, cancellationToken);
            deleted++;
        }
        // Data files before the log, so an interrupted drop never leaves a log pointing at nothing it could replay.
        var root = StoragePathNames.DeltaTableRoot(id) + "/";
        var objects = await services.Objects.ListAsync(root, cancellationToken);
        foreach (var o in objects.OrderBy(o => o.Path.Contains("/_delta_log/", StringComparison.Ordinal) ? 1 : 0))
        {
            try
            {
                await services.Objects.DeleteAsync(o.Path, cancellationToken);
                deleted++;
            }
            catch (ObjectNotFoundException)
            {
                // Already gone (a drop retried after a partial one).
            }
        }
        return deleted;
    }
}
