using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>What one export becomes: one batch for one table (null when no item was accepted), and the items refused.</summary>
/// <param name="Table">The target table.</param>
/// <param name="Batch">The accepted items as rows.</param>
/// <param name="Rejected">Items refused (OTLP partial success).</param>
/// <param name="Error">Why the first item was refused.</param>
/// <param name="Buffers">The pooled memory under <paramref name="Batch"/>: disposed once the batch was written (never while
/// a write may still read it).</param>
internal sealed record MappedRows(string Table, RecordBatch? Batch, long Rejected, string? Error, IDisposable? Buffers = null);

/// <summary>Counts refused items and keeps the first reason.</summary>
internal struct Rejections
{
    public long Count;
    public string? First;

    public void Add(string reason)
    {
        Count++;
        First ??= reason;
    }
}

/// <summary>Time conversions shared by the mappers.</summary>
internal static class OtlpTime
{
    /// <summary>The latest timestamp ingest accepts (IngestOptions' default), in microseconds.</summary>
    public static readonly long MaxMicros = (new TimeFusion.Ingest.IngestOptions().MaxTimestamp - DateTimeOffset.UnixEpoch).Ticks / 10;

    /// <summary>Nanoseconds since the epoch as microseconds; false when beyond what a table holds.</summary>
    public static bool TryMicros(ulong nanos, out long micros)
    {
        var us = nanos / 1000;
        micros = (long)Math.Min(us, long.MaxValue);
        return us <= (ulong)MaxMicros;
    }

    /// <summary>Now, in microseconds since the epoch.</summary>
    public static long NowMicros(TimeProvider time) => (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
}
