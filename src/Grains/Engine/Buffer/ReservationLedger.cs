namespace TimeFusion.Buffer;

/// <summary>
/// A table's memory reservations in LSN order, so that a flush up to an LSN gives back exactly the
/// reservations of the rows it made durable. Thread-safe.
/// </summary>
internal sealed class ReservationLedger
{
    private readonly Queue<(long Lsn, MemoryReservation Reservation)> _entries = new();
    private long _bytes;

    /// <summary>Bytes held by the table's live reservations.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Records a held reservation for rows with <paramref name="lsn"/> (non-decreasing).</summary>
    public void Add(long lsn, MemoryReservation reservation)
    {
        lock (_entries)
        {
            _entries.Enqueue((lsn, reservation));
            _bytes += reservation.Bytes;
        }
    }

    /// <summary>Releases (after reclaim) every reservation with an LSN at or below <paramref name="lsn"/>; returns the bytes.</summary>
    public long ReleaseUpTo(long lsn)
    {
        var released = new List<MemoryReservation>();
        lock (_entries)
        {
            while (_entries.TryPeek(out var head) && head.Lsn <= lsn)
            {
                _entries.Dequeue();
                _bytes -= head.Reservation.Bytes;
                released.Add(head.Reservation);
            }
        }
        long total = 0;
        foreach (var r in released)
        {
            total += r.Bytes;
            r.ReleaseAfterReclaim();
        }
        return total;
    }

    /// <summary>Releases (after reclaim) everything.</summary>
    public long ReleaseAll() => ReleaseUpTo(long.MaxValue);
}
