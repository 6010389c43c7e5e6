using Apache.Arrow;

namespace TimeFusion.Wire;

/// <summary>The serialized form of <see cref="ArrowBatches"/>: one Arrow IPC stream.</summary>
[GenerateSerializer]
public struct ArrowBatchesSurrogate
{
    /// <summary>The IPC stream bytes.</summary>
    [Id(0)] public byte[] Ipc;
}

/// <summary>Converts <see cref="ArrowBatches"/> to and from its IPC surrogate for Orleans.</summary>
[RegisterConverter]
public sealed class ArrowBatchesConverter : IConverter<ArrowBatches, ArrowBatchesSurrogate>
{
    /// <inheritdoc />
    public ArrowBatches ConvertFromSurrogate(in ArrowBatchesSurrogate surrogate)
    {
        return ArrowBatches.FromIpc(surrogate.Ipc);
    }

    /// <inheritdoc />
    public ArrowBatchesSurrogate ConvertToSurrogate(in ArrowBatches value) => new() { Ipc = value.ToIpc() };
}

/// <summary>The serialized form of a single <see cref="RecordBatch"/>: an Arrow IPC stream.</summary>
[GenerateSerializer]
public struct RecordBatchSurrogate
{
    /// <summary>The IPC stream bytes (received into a pinned array of their own: the batch's buffers stay there).</summary>
    [Id(0)] public PinnedIpcBytes Ipc;
}

/// <summary>Lets grain methods take and return <see cref="RecordBatch"/> directly.</summary>
[RegisterConverter]
public sealed class RecordBatchConverter : IConverter<RecordBatch, RecordBatchSurrogate>
{
    // AppContext switch "TimeFusion.Wire.PlainSend": every batch encoded into a fresh array, as before rented arrays (A/B).
    private static readonly bool PlainSend = AppContext.TryGetSwitch("TimeFusion.Wire.PlainSend", out var on) && on;

    /// <inheritdoc />
    public RecordBatch ConvertFromSurrogate(in RecordBatchSurrogate surrogate)
    {
        var (_, batches) = ArrowIpc.Read(surrogate.Ipc.Bytes);
        if (batches.Count != 1) throw new InvalidDataException($"expected one record batch, got {batches.Count}");
        if (surrogate.Ipc.IsPinned) ReceivedBatches.Add(batches[0], surrogate.Ipc);
        return batches[0];
    }

    /// <inheritdoc />
    public RecordBatchSurrogate ConvertToSurrogate(in RecordBatch value)
    {
        var started = WireTrace.Listener.IsEnabled(WireTrace.Encoded) ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        // A large batch goes through a rented array (no large-object-heap garbage per send), which the codec returns.
        var source = started != 0 ? (value, started) : default((RecordBatch, long)?);
        var ipc = !PlainSend && ArrowIpc.WriteRented(value) is var (buffer, length)
            ? new PinnedIpcBytes(buffer, length) { Source = source }
            : new PinnedIpcBytes(ArrowIpc.Write(value.Schema, [value])) { Source = source };
        return new() { Ipc = ipc };
    }
}
