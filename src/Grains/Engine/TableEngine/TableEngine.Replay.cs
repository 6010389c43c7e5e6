using TimeFusion.Buffer;
using TimeFusion.Ingest;
using TimeFusion.Recovery;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Engine;

/// <summary>Recovery: how replayed WAL inserts reach the buffer (<see cref="WalReplayer"/> drives it while the table opens).</summary>
public sealed partial class TableEngine
{
    int WalReplayer.ITarget.ReplayCoalescedRows => _services.Buffer.Options.ReplayCoalescedRows;

    /// <summary>
    /// A logged batch was validated before it was written and its frame's CRC matched: when it is in the table's
    /// current shape only its structure is checked again (<see cref="BatchValidator.ValidateLogged"/>), and when it was
    /// read into a pinned block of its own the tail keeps it there (no second copy). A batch logged under an older
    /// schema (before an ADD COLUMN) goes through the full validator, which re-normalizes it (new nullable columns
    /// become nulls).
    /// </summary>
    ValidatedBatch WalReplayer.ITarget.DecodeInsert(long lsn, ReadOnlyMemory<byte> payload, byte[]? pinnedBlock)
    {
        var decoded = WalPayloads.ReadInsert(payload);
        ValidatedBatch? logged;
        try
        {
            logged = BatchValidator.ValidateLogged(decoded, Schema);
        }
        catch (SchemaException e)
        {
            throw new WalFormatException($"{Id}: WAL entry {lsn} does not hold a valid batch for the table: {e.Message}", e);
        }
        if (logged is null) return ValidateReplayed(lsn, decoded);
        return pinnedBlock is null ? logged : logged.InBlock(pinnedBlock);
    }

    async Task<MemoryReservation> WalReplayer.ITarget.ReserveAsync(ValidatedBatch rows, Func<Task> applyPending, CancellationToken cancellationToken)
    {
        var budget = _services.Buffer.Budget;
        var bytes = _buffer.EstimateBytes(rows.Batch);
        if (budget.TryReserve(bytes, out var reservation)) return reservation;
        // The WAL holds more than memory allows: persist what was replayed so far, then go on.
        await applyPending();
        await FlushLockedAsync(cancellationToken);
        _flushesDuringReplay++;
        return await budget.ReserveAsync(bytes, _services.Buffer.Options.ReserveMaxWait, cancellationToken);
    }

    async Task WalReplayer.ITarget.ApplyInsertsAsync(IReadOnlyList<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group,
        CancellationToken cancellationToken)
    {
        // Replay is sequential and nothing else applies meanwhile, so the group goes straight to the buffer (one
        // transaction); the sequencer then continues after its last LSN (quarantined entries leave gaps).
        try
        {
            if (BeforeBufferAppend is { } hook) await hook(group[0].Lsn, group[^1].Lsn);
        }
        catch
        {
            foreach (var item in group) item.Reservation.Release();
            throw;
        }
        await Task.Run(() => _buffer.AppendAsync(group, CancellationToken.None), CancellationToken.None);
        Interlocked.CompareExchange(ref _oldestUnflushedTicks, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
        _sequencer = new LsnSequencer(group[^1].Lsn);
    }
}
