using System.Buffers;
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

    /// <summary>Whether <see cref="Bytes"/> was received into the pinned object heap (streams of <see cref="PinnedIpcBytesCodec.PinnedMinBytes"/> or more).</summary>
    public bool IsPinned { get; init; }
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
        writer.WriteVarUInt32((uint)value.Bytes.Length);
        writer.Write(value.Bytes);
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
        var bytes = GC.AllocateUninitializedArray<byte>((int)length, pinned);
        reader.ReadBytes(bytes);
        var result = new PinnedIpcBytes(bytes) { IsPinned = pinned };
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
    private static readonly ConditionalWeakTable<RecordBatch, byte[]> Blocks = new();

    /// <summary>Records that <paramref name="batch"/>'s buffers are slices of <paramref name="block"/>, received for it alone.</summary>
    internal static void Add(RecordBatch batch, byte[] block) => Blocks.AddOrUpdate(batch, block);

    /// <summary>The pinned array <paramref name="batch"/> was decoded from, if Orleans received it for this batch alone.</summary>
    public static bool TryGetBlock(RecordBatch batch, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? block) =>
        Blocks.TryGetValue(batch, out block);
}
