using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Flush;

/// <summary>
/// Write path, step 4: persists a table's buffered rows up to an LSN. In this order, so that a crash anywhere
/// neither loses nor duplicates a row:
/// export Parquet per date partition (DuckDB <c>COPY … RETURN_STATS</c>) → upload → one Delta commit of the
/// <c>add</c>s plus <c>txn(appId = table key, version = LSN)</c> → publish the new snapshot → truncate the WAL →
/// delete the rows from the buffer (which releases their memory reservation).
/// Recovery replays only WAL entries above the committed <c>txn</c> version, so a crash after the commit and
/// before the truncation replays nothing twice. Files uploaded by a flush whose commit failed are left for VACUUM:
/// a commit whose outcome is unknown may have landed, and deleting its files would break the table.
/// </summary>
internal sealed class Persister(
    TableId id,
    TableSchema schema,
    BufferTable buffer,
    DeltaTable delta,
    WriteAheadLog wal,
    FlushOptions options,
    ILogger logger)
{
    /// <summary>The Delta <c>txn</c> application id of this table's flushes.</summary>
    public string AppId { get; } = id.ToString();

    /// <summary>Persists every buffered row with LSN ≤ <paramref name="upToLsn"/>; <paramref name="publish"/> runs right after the commit.</summary>
    public async Task<FlushResult> PersistAsync(DeltaSnapshot current, long upToLsn, Action<DeltaSnapshot, long> publish, CancellationToken cancellationToken,
        string? rowFilter = null)
    {
        var started = Stopwatch.GetTimestamp();
        var staging = Path.Combine(options.StagingDirectory, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            var files = await buffer.ExportParquetAsync(upToLsn, staging, cancellationToken, rowFilter);
            var exported = Stopwatch.GetTimestamp();
            var now = DateTimeOffset.UtcNow;
            var actions = new List<DeltaAction>(files.Count + 1);
            foreach (var file in files)
            {
                await delta.Store.AdoptFileAsync(delta.ObjectPath(file.RelativePath), file.LocalPath, cancellationToken);
                actions.Add(DeltaAddForExport.Create(file, schema, now));
            }
            actions.Add(new TransactionAction(AppId, upToLsn, now.ToUnixTimeMilliseconds()));
            var adopted = Stopwatch.GetTimestamp();

            DeltaSnapshot committed;
            try
            {
                committed = await delta.CommitAsync(current, actions, "WRITE", cancellationToken);
            }
            catch (DeltaCheckpointException e)
            {
                // The version is committed; only the checkpoint after it failed. The next commit retries it.
                logger.LogWarning(e, "{Table}: checkpoint after Delta version {Version} failed", id, e.Snapshot.Version);
                committed = e.Snapshot;
            }
            publish(committed, upToLsn);
            var published = Stopwatch.GetTimestamp();

            // From here the rows are durable in Delta: WAL and buffer only shrink. Neither step may be cancelled
            // half-way by the caller, so they ignore its token.
            await wal.TruncateAsync(upToLsn, CancellationToken.None);
            var truncated = Stopwatch.GetTimestamp();
            await buffer.DeleteUpToAsync(upToLsn, CancellationToken.None);
            var deleted = Stopwatch.GetTimestamp();

            var rows = files.Sum(f => f.Rows);
            var bytes = files.Sum(f => f.Bytes);
            logger.LogInformation("{Table}: flushed {Rows} rows in {Files} files ({Bytes} bytes) through LSN {Lsn} as Delta version {Version} " +
                                  "in {Elapsed} ms (export {Export}, adopt {Adopt}, commit {Commit}, WAL truncate {Truncate}, buffer delete {Delete}); export at {Priority}",
                id, rows, files.Count, bytes, upToLsn, committed.Version, Ms(started, deleted), Ms(started, exported), Ms(exported, adopted),
                Ms(adopted, published), Ms(published, truncated), Ms(truncated, deleted), buffer.LastExportPriority);
            return new FlushResult(upToLsn, committed.Version, files.Count, rows, bytes);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static long Ms(long from, long to) => (long)Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
