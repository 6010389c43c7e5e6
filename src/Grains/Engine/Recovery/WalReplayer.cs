using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Recovery;

/// <summary>
/// Write path, step 5: after a restart, re-applies to the buffer every WAL entry above the LSN that Delta already
/// holds (the table's <c>txn</c> version), in LSN order, each exactly once. Progress is logged every few seconds,
/// since a large WAL takes a while.
/// </summary>
internal static class WalReplayer
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    /// <summary>Callbacks through which replayed entries reach the buffer (the same path live writes take, minus the WAL).</summary>
    public interface ITarget
    {
        /// <summary>Applies a replayed insert; returns the rows it added.</summary>
        Task<long> ApplyInsertAsync(long lsn, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

        /// <summary>Applies a replayed delete or update.</summary>
        Task ApplyDmlAsync(long lsn, WalOperation operation, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
    }

    public static async Task<(long Entries, long Rows, long Bytes, long LastLsn, long Quarantined)> ReplayAsync(
        TableId id, WriteAheadLog wal, long afterLsn, ITarget target, ILogger logger, CancellationToken cancellationToken)
    {
        long entries = 0, rows = 0, bytes = 0, last = afterLsn, quarantined = 0;
        var clock = Stopwatch.StartNew();
        var nextProgress = ProgressInterval;
        await foreach (var entry in wal.ReadAsync(afterLsn, cancellationToken))
        {
            if (entry.Project != id.Project || entry.Table != id.Table)
                throw new WalIdentityException($"{id}: WAL entry {entry.Lsn} belongs to '{entry.Project}/{entry.Table}'");
            try
            {
                switch (entry.Operation)
                {
                    case WalOperation.Insert:
                        rows += await target.ApplyInsertAsync(entry.Lsn, entry.Payload, cancellationToken);
                        break;
                    case WalOperation.Delete or WalOperation.Update:
                        await target.ApplyDmlAsync(entry.Lsn, entry.Operation, entry.Payload, cancellationToken);
                        break;
                    default:
                        throw new WalFormatException($"{id}: WAL entry {entry.Lsn} has unknown operation {entry.Operation}");
                }
            }
            catch (WalFormatException e) when (wal.CorruptionPolicy == WalCorruptionPolicy.Quarantine)
            {
                // An intact frame whose content is not a valid entry for the table (decoded, then refused by the
                // validator): quarantined like damaged bytes, and the table goes on with the rest.
                var file = await wal.QuarantineEntryAsync(entry.Lsn, entry.Payload, cancellationToken);
                if (quarantined++ == 0)
                    logger.LogWarning("{Table}: WAL entry {Lsn} could not be applied and was quarantined to '{File}': {Reason}", id, entry.Lsn, file, e.Message);
                continue;
            }
            entries++;
            bytes += entry.Payload.Length;
            last = entry.Lsn;
            if (clock.Elapsed >= nextProgress)
            {
                nextProgress = clock.Elapsed + ProgressInterval;
                logger.LogInformation("{Table}: recovering, {Entries} WAL entries ({MiB:F0} MiB, {Rows} rows) replayed, at LSN {Lsn}",
                    id, entries, bytes / 1048576.0, rows, last);
            }
        }
        return (entries, rows, bytes, last, quarantined);
    }
}
