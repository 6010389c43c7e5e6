using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Apache.Arrow;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;
using OrleansField = Orleans.Serialization.WireProtocol.Field;

namespace TimeFusion.Wire;

/// <summary>
/// An Arrow IPC stream that Orleans reads into an array of its own on the pinned object heap (<see cref="PinnedIpcBytesCodec"/>).
/// A batch decoded from it is made of slices of that array (<see cref="ArrowIpc.Read"/> does not copy), so the table that
/// keeps the rows may keep them where they are instead of copying them into pinned memory (<see cref="ReceivedBatches"/>).
/// On the wire it is a plain length-prefixed byte string, as a <c>byte[]</c> field is.
/// </summary>
[Immutable]
public sealed class PinnedIpcBytes(byte[] bytes)
{
    /// <summary>The stream's bytes.</summary>
    public byte[] Bytes { get; } = bytes;

    // Sending side, a stream written into a rented array (ArrowIpc.WriteRented): its length, and whether the array is
    // still rented (the codec gives it back once it has copied the bytes into the message: one send per surrogate).
    private readonly int _rentedLength = -1;
    private int _rented;

    /// <summary>The first <paramref name="length"/> bytes of <paramref name="rented"/>, an array from <see cref="ArrayPool{T}.Shared"/> that the codec returns once it sent them.</summary>
    internal PinnedIpcBytes(byte[] rented, int length) : this(rented)
    {
        _rentedLength = length;
        _rented = 1;
    }

    /// <summary>The stream's bytes to send (the rented array's written part); throws once the rented array was given back.</summary>
    internal ReadOnlySpan<byte> ToSend()
    {
        if (_rentedLength < 0) return Bytes;
        if (Volatile.Read(ref _rented) == 0) throw new InvalidOperationException("the IPC bytes were already sent and their array returned");
        return Bytes.AsSpan(0, _rentedLength);
    }

    /// <summary>Gives a rented array back to the pool (once).</summary>
    internal void Sent()
    {
        if (_rentedLength >= 0 && Interlocked.Exchange(ref _rented, 0) == 1) ArrayPool<byte>.Shared.Return(Bytes);
    }

    /// <summary>Whether <see cref="Bytes"/> was received into the pinned object heap (streams of <see cref="PinnedIpcBytesCodec.PinnedMinBytes"/> or more).</summary>
    public bool IsPinned { get; init; }

    /// <summary>Received: when the codec started reading the bytes (the whole message had arrived), a Stopwatch timestamp.</summary>
    public long ReadStarted { get; init; }

    /// <summary>Received: when the bytes had been copied out of Orleans' receive buffer.</summary>
    public long ReadEnded { get; init; }

    /// <summary>Sent: the batch these bytes encode and when its encoding started (for <see cref="WireTrace"/>).</summary>
    internal (RecordBatch Batch, long EncodeStarted)? Source { get; init; }
}

/// <summary>Orleans' codec for <see cref="PinnedIpcBytes"/>: <c>byte[]</c>'s encoding, read into a fresh pinned array.</summary>
[RegisterSerializer]
public sealed class PinnedIpcBytesCodec : IFieldCodec<PinnedIpcBytes>
{
    /// <summary>Streams from this size on are received pinned (the WAL's threshold for materializing entries pinned).</summary>
    public const int PinnedMinBytes = 256 << 10;

    /// <inheritdoc />
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, Type? expectedType, PinnedIpcBytes? value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (ReferenceCodec.TryWriteReferenceField(ref writer, fieldIdDelta, expectedType, value) || value is null)
            return;
        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(PinnedIpcBytes), WireType.LengthPrefixed);
        var bytes = value.ToSend();
        writer.WriteVarUInt32((uint)bytes.Length);
        writer.Write(bytes);
        value.Sent();
        if (value.Source is { } source && WireTrace.Listener.IsEnabled(WireTrace.Encoded))
            WireTrace.Listener.Write(WireTrace.Encoded, new WireTrace.EncodedBatch(source.Batch, source.EncodeStarted, Stopwatch.GetTimestamp()));
    }

    /// <inheritdoc />
    public PinnedIpcBytes ReadValue<TInput>(ref Reader<TInput> reader, OrleansField field)
    {
        if (field.WireType == WireType.Reference)
            return ReferenceCodec.ReadReference<PinnedIpcBytes, TInput>(ref reader, field)!;
        field.EnsureWireType(WireType.LengthPrefixed);
        var length = reader.ReadVarUInt32();
        // A length beyond the message is refused before anything is allocated for it.
        if (length > reader.Length - reader.Position)
            throw new InvalidDataException($"an IPC stream of {length} bytes does not fit the message");
        // Small streams (a few rows; their schema may be most of them) stay ordinary arrays: the pinned object heap is
        // collected with generation 2 only, and such a batch is copied into the tail's chunks anyway.
        var pinned = length >= PinnedMinBytes;
        var started = Stopwatch.GetTimestamp();
        var bytes = GC.AllocateUninitializedArray<byte>((int)length, pinned);
        reader.ReadBytes(bytes);
        var result = new PinnedIpcBytes(bytes) { IsPinned = pinned, ReadStarted = started, ReadEnded = Stopwatch.GetTimestamp() };
        ReferenceCodec.RecordObject(reader.Session, result);
        return result;
    }
}

/// <summary>
/// Batches Orleans decoded from a <see cref="PinnedIpcBytes"/> stream of their own: the array, pinned, that nothing else
/// references or writes. The table engine keeps such a batch's rows in place instead of copying them.
/// </summary>
public static class ReceivedBatches
{
    private static readonly ConditionalWeakTable<RecordBatch, ReceivedBatch> Blocks = new();

    /// <summary>Records that <paramref name="batch"/>'s buffers are slices of <paramref name="bytes"/>' array, received for it alone.</summary>
    internal static void Add(RecordBatch batch, PinnedIpcBytes bytes) =>
        Blocks.AddOrUpdate(batch, new ReceivedBatch(bytes.Bytes, bytes.ReadStarted, bytes.ReadEnded, Stopwatch.GetTimestamp()));

    /// <summary>
    /// Records that <paramref name="batch"/>'s buffers are slices of <paramref name="block"/>, an array on the pinned
    /// object heap that a front end received this batch into (Flight DoPut) and that nothing else references or writes.
    /// <paramref name="readStarted"/> and <paramref name="readEnded"/> are Stopwatch timestamps of the copy into it.
    /// </summary>
    public static void Add(RecordBatch batch, byte[] block, long readStarted, long readEnded)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(block);
        Blocks.AddOrUpdate(batch, new ReceivedBatch(block, readStarted, readEnded, Stopwatch.GetTimestamp()));
    }

    /// <summary>The pinned array <paramref name="batch"/> was decoded from, if Orleans received it for this batch alone.</summary>
    public static bool TryGetBlock(RecordBatch batch, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? block)
    {
        block = Blocks.TryGetValue(batch, out var received) ? received.Block : null;
        return block is not null;
    }

    /// <summary>How <paramref name="batch"/> was received, if Orleans received it into a pinned array of its own.</summary>
    public static bool TryGet(RecordBatch batch, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ReceivedBatch? received) =>
        Blocks.TryGetValue(batch, out received);
}

/// <summary>
/// A batch received into a pinned array of its own, and the Stopwatch timestamps of its way to the table engine (for
/// the slow-insert log: where an acknowledgement's time went before the engine). Each hop stamps its own field.
/// </summary>
public sealed class ReceivedBatch(byte[] block, long readStarted, long readEnded, long decoded)
{
    private readonly TimeSpan _pausedAtReceive = GC.GetTotalPauseDuration();

    /// <summary>The pinned array the batch's buffers are slices of.</summary>
    public byte[] Block { get; } = block;

    /// <summary>When the codec started reading the message's bytes (the whole message had arrived).</summary>
    public long ReadStarted { get; } = readStarted;

    /// <summary>When the bytes had been copied into <see cref="Block"/>.</summary>
    public long ReadEnded { get; } = readEnded;

    /// <summary>When the IPC stream had been decoded into the batch.</summary>
    public long Decoded { get; } = decoded;

    /// <summary>When the query gateway grain's insert started (0 = not through the gateway).</summary>
    public long GatewayEntered { get; set; }

    /// <summary>When the table grain's insert started.</summary>
    public long GrainEntered { get; set; }

    /// <summary>The GC's pause time since the codec read the batch.</summary>
    public TimeSpan PausedSinceReceive => GC.GetTotalPauseDuration() - _pausedAtReceive;
}

/// <summary>
/// Diagnostics of batches on the wire, free when nobody listens: a <see cref="DiagnosticListener"/> named
/// <c>TimeFusion.Wire</c> that reports, on the sending side, each <see cref="RecordBatch"/> parameter Orleans encoded
/// (<see cref="EncodedBatch"/>: when its IPC encoding started and when its bytes were in Orleans' send buffer).
/// </summary>
public static class WireTrace
{
    /// <summary>The listener (<c>DiagnosticListener.AllListeners</c> finds it by name).</summary>
    public static readonly DiagnosticListener Listener = new("TimeFusion.Wire");

    /// <summary>The event name of an encoded batch; its payload is an <see cref="EncodedBatch"/>.</summary>
    public const string Encoded = "BatchEncoded";

    /// <summary>A batch Orleans encoded for sending: Stopwatch timestamps of the start of its IPC encoding and of its bytes written into the message.</summary>
    public sealed record EncodedBatch(RecordBatch Batch, long Started, long Written);
}
