using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TimeFusion.Buffer;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Recovery;

/// <summary>
/// Write path, step 5: after a restart, re-applies to the buffer every WAL entry above the LSN that Delta already
/// holds (the table's <c>txn</c> version), in LSN order, each exactly once. Two stages run side by side: a reader
/// (segments read sequentially, frames checked, Arrow IPC decoded in place over the read payload and validated) and
/// an applier that appends consecutive inserts together — up to <see cref="ITarget.ReplayCoalescedRows"/> rows per
/// buffer transaction, as the live path coalesces concurrent writers — so that a large WAL costs few DuckDB commits
/// and the decoding overlaps the appending. Progress is logged every few seconds, since a large WAL takes a while.
/// </summary>
internal static class WalReplayer
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    /// <summary>Payload bytes the reader may run ahead of the applier (decoded batches point into them).</summary>
    internal const long ReadAheadBytes = 64L << 20;

    private const int CreditBytes = 64 << 10;

    /// <summary>Callbacks through which replayed entries reach the buffer (the same path live writes take, minus the WAL).</summary>
    public interface ITarget
    {
        /// <summary>Rows one buffer transaction may take (at least one entry goes in any case).</summary>
        int ReplayCoalescedRows { get; }

        /// <summary>
        /// Decodes and checks a replayed insert (the batch points into <paramref name="payload"/>; <paramref name="pinnedBlock"/>
        /// is the pinned array it fills whole, if any: see <see cref="WalEntry.PinnedBlock"/>). Throws
        /// <see cref="WalFormatException"/> when it is not a valid batch for the table. Thread-safe.
        /// </summary>
        ValidatedBatch DecodeInsert(long lsn, ReadOnlyMemory<byte> payload, byte[]? pinnedBlock);

        /// <summary>
        /// Reserves the memory of a replayed batch; when the budget is full, first calls <paramref name="applyPending"/>
        /// (the batches waiting for their transaction) and persists what was replayed so far.
        /// </summary>
        Task<MemoryReservation> ReserveAsync(ValidatedBatch rows, Func<Task> applyPending, CancellationToken cancellationToken);

        /// <summary>Appends replayed inserts (increasing LSNs, gaps allowed where entries were quarantined) in one buffer transaction.</summary>
        Task ApplyInsertsAsync(IReadOnlyList<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group, CancellationToken cancellationToken);

        /// <summary>Applies a replayed delete, update or transaction (every earlier entry is applied by then).</summary>
        Task ApplyDmlAsync(long lsn, WalOperation operation, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
    }

    /// <summary>What the reader hands the applier: a decoded insert, a DML entry, or an entry it quarantined.</summary>
    private sealed record Item(long Lsn, WalOperation Operation, ReadOnlyMemory<byte> Payload, ValidatedBatch? Rows, int Credits);

    public static async Task<(long Entries, long Rows, long Bytes, long LastLsn, long Quarantined)> ReplayAsync(
        TableId id, WriteAheadLog wal, long afterLsn, ITarget target, ILogger logger, CancellationToken cancellationToken)
    {
        long entries = 0, rows = 0, bytes = 0, last = afterLsn, quarantined = 0;
        var clock = Stopwatch.StartNew();
        var nextProgress = ProgressInterval;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var credits = new SemaphoreSlim((int)(ReadAheadBytes / CreditBytes));
        var queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var reader = Task.Run(() => ReadAsync(id, wal, afterLsn, target, queue.Writer, credits, logger, stop.Token), CancellationToken.None);

        var group = new List<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)>();
        var groupCredits = 0;
        long groupRows = 0;
        var limit = Math.Max(1, target.ReplayCoalescedRows);

        async Task ApplyPendingAsync()
        {
            if (group.Count == 0) return;
            var batch = group.ToArray();
            var (count, taken) = (groupRows, groupCredits);
            group.Clear();
            (groupRows, groupCredits) = (0, 0);
            await target.ApplyInsertsAsync(batch, stop.Token);
            entries += batch.Length;
            rows += count;
            last = batch[^1].Lsn;
            credits.Release(taken);
        }

        try
        {
            while (await queue.Reader.WaitToReadAsync(stop.Token))
            {
                while (queue.Reader.TryRead(out var item))
                {
                    if (item.Rows is null && item.Operation == WalOperation.Insert)
                    {
                        quarantined++; // the reader set it aside
                        credits.Release(item.Credits);
                        continue;
                    }
                    if (item.Rows is { } batch)
                    {
                        if (group.Count > 0 && groupRows + batch.Length > limit) await ApplyPendingAsync();
                        var reservation = await target.ReserveAsync(batch, ApplyPendingAsync, stop.Token);
                        group.Add((batch, item.Lsn, reservation));
                        groupRows += batch.Length;
                        groupCredits += item.Credits;
                        bytes += item.Payload.Length;
                    }
                    else
                    {
                        await ApplyPendingAsync();
                        try
                        {
                            await target.ApplyDmlAsync(item.Lsn, item.Operation, item.Payload, stop.Token);
                        }
                        catch (WalFormatException e) when (wal.CorruptionPolicy == WalCorruptionPolicy.Quarantine)
                        {
                            await QuarantineAsync(id, wal, item.Lsn, item.Payload, e, quarantined++ == 0, logger, stop.Token);
                            credits.Release(item.Credits);
                            continue;
                        }
                        entries++;
                        bytes += item.Payload.Length;
                        last = item.Lsn;
                        credits.Release(item.Credits);
                    }
                }
                // The reader is behind (or done): apply what is here rather than wait for a fuller group.
                await ApplyPendingAsync();
                if (clock.Elapsed >= nextProgress)
                {
                    nextProgress = clock.Elapsed + ProgressInterval;
                    logger.LogInformation("{Table}: recovering, {Entries} WAL entries ({MiB:F0} MiB, {Rows} rows) replayed, at LSN {Lsn}",
                        id, entries, bytes / 1048576.0, rows, last);
                }
            }
            await ApplyPendingAsync();
        }
        catch
        {
            // Reservations taken for a group that never reached the buffer go back to the budget.
            foreach (var item in group) item.Reservation.Release();
            await stop.CancelAsync();
            try
            {
                await reader;
            }
            catch
            {
                // the applier's failure is the one to report
            }
            throw;
        }
        await reader; // surfaces the reader's failure (it completed the queue with it as well)
        return (entries, rows, bytes, last, quarantined);
    }

    /// <summary>
    /// The reader stage: entries in LSN order, inserts decoded and validated here (off the applier), each holding read-ahead
    /// credits for its payload bytes until the applier is done with it.
    /// </summary>
    private static async Task ReadAsync(TableId id, WriteAheadLog wal, long afterLsn, ITarget target, ChannelWriter<Item> queue,
        SemaphoreSlim credits, ILogger logger, CancellationToken cancellationToken)
    {
        var maxCredits = (int)(ReadAheadBytes / CreditBytes);
        var quarantined = 0;
        Exception? failure = null;
        try
        {
            await foreach (var entry in wal.ReadAsync(afterLsn, cancellationToken))
            {
                if (entry.Project != id.Project || entry.Table != id.Table)
                    throw new WalIdentityException($"{id}: WAL entry {entry.Lsn} belongs to '{entry.Project}/{entry.Table}'");
                var need = (int)Math.Clamp((entry.Payload.Length + CreditBytes - 1L) / CreditBytes, 1, maxCredits);
                for (var i = 0; i < need; i++) await credits.WaitAsync(cancellationToken);
                ValidatedBatch? rows = null;
                try
                {
                    rows = entry.Operation switch
                    {
                        WalOperation.Insert => target.DecodeInsert(entry.Lsn, entry.Payload, entry.PinnedBlock),
                        WalOperation.Delete or WalOperation.Update or WalOperation.Transaction => null,
                        _ => throw new WalFormatException($"{id}: WAL entry {entry.Lsn} has unknown operation {entry.Operation}"),
                    };
                }
                catch (WalFormatException e) when (wal.CorruptionPolicy == WalCorruptionPolicy.Quarantine)
                {
                    // An intact frame whose content is not a valid entry for the table (decoded, then refused by the
                    // validator): quarantined like damaged bytes, and the table goes on with the rest.
                    await QuarantineAsync(id, wal, entry.Lsn, entry.Payload, e, quarantined++ == 0, logger, cancellationToken);
                    await queue.WriteAsync(new Item(entry.Lsn, WalOperation.Insert, default, null, need), cancellationToken);
                    continue;
                }
                await queue.WriteAsync(new Item(entry.Lsn, entry.Operation, entry.Payload, rows, need), cancellationToken);
            }
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            queue.TryComplete(failure);
        }
    }

    private static async Task QuarantineAsync(TableId id, WriteAheadLog wal, long lsn, ReadOnlyMemory<byte> payload, WalFormatException e,
        bool log, ILogger logger, CancellationToken cancellationToken)
    {
        var file = await wal.QuarantineEntryAsync(lsn, payload, cancellationToken);
        if (log)
            logger.LogWarning("{Table}: WAL entry {Lsn} could not be applied and was quarantined to '{File}': {Reason}", id, lsn, file, e.Message);
    }
}
