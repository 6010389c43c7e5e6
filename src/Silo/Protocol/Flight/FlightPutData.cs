using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Apache.Arrow.Flight;
using Grpc.Core;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// One <c>FlightData</c> message of a DoPut, read straight out of gRPC's receive buffer (<see cref="Marshaller"/>): its
/// descriptor, and its Arrow IPC message (<c>data_header</c> and <c>data_body</c>) laid out as one IPC stream message
/// (continuation marker, metadata length, metadata padded to 8 bytes, body) in an array of its own — pinned for bodies of
/// <see cref="PinnedIpcBytesCodec.PinnedMinBytes"/> or more, as the Orleans codec receives the SDK's batches. The body
/// is copied once; a batch decoded from <see cref="Message"/> is made of slices of it, which the table keeps in place.
/// Apache.Arrow.Flight's own reader instead parses the protobuf into a fresh array per message, decodes it, and the table
/// then copies the rows again into pinned memory (docs/BENCHMARKS.md, session 14).
/// </summary>
internal sealed class FlightPutData
{
    private FlightPutData()
    {
    }

    /// <summary>The descriptor (the first message of a DoPut carries it), else null.</summary>
    public FlightDescriptor? Descriptor { get; private init; }

    /// <summary>The IPC message (prefix, metadata, body); null for a message without <c>data_header</c> (metadata only).</summary>
    public byte[]? Message { get; private init; }

    /// <summary>The length of the flatbuffer metadata (unpadded) at offset 8 of <see cref="Message"/>.</summary>
    public int HeaderLength { get; private init; }

    /// <summary>The length of the body at the end of <see cref="Message"/>.</summary>
    public int BodyLength { get; private init; }

    /// <summary>Whether <see cref="Message"/> is on the pinned object heap.</summary>
    public bool IsPinned { get; private init; }

    /// <summary>When the marshaller started reading the message (the whole message had arrived), a Stopwatch timestamp.</summary>
    public long ReadStarted { get; private init; }

    /// <summary>When the message had been copied out of gRPC's buffer.</summary>
    public long ReadEnded { get; private init; }

    /// <summary>Why the protobuf could not be read (the reader ends the call with InvalidArgument), else null.</summary>
    public string? Error { get; private init; }

    /// <summary>The metadata (a flatbuffer <c>Message</c>, no prefix).</summary>
    public ReadOnlySpan<byte> Header => Message.AsSpan(8, HeaderLength);

    /// <summary>The gRPC marshaller: reads <c>FlightData</c> (this type); never writes one.</summary>
    public static readonly Marshaller<FlightPutData> Marshaller = new(
        (_, _) => throw new NotSupportedException("the server does not send FlightData on DoPut"),
        context => Parse(context.PayloadAsReadOnlySequence()));

    private const int FieldDescriptor = 1, FieldHeader = 2, FieldBody = 1000;
    private const int WireVarint = 0, WireFixed64 = 1, WireLengthDelimited = 2, WireFixed32 = 5;

    /// <summary>Parses a <c>FlightData</c> protobuf message (arrow/format/Flight.proto); unknown fields are skipped.</summary>
    public static FlightPutData Parse(ReadOnlySequence<byte> payload)
    {
        var started = Stopwatch.GetTimestamp();
        var reader = new SequenceReader<byte>(payload);
        FlightDescriptor? descriptor = null;
        ReadOnlySequence<byte>? header = null;
        var body = ReadOnlySequence<byte>.Empty;
        while (!reader.End)
        {
            if (!TryReadField(ref reader, out var field, out var value, out var error))
                return new FlightPutData { Error = error, ReadStarted = started };
            switch (field)
            {
                case FieldDescriptor when value is { } d:
                    descriptor = ParseDescriptor(d, out error);
                    if (error is not null) return new FlightPutData { Error = error, ReadStarted = started };
                    break;
                case FieldHeader when value is { } h:
                    header = h;
                    break;
                case FieldBody when value is { } b:
                    body = b;
                    break;
            }
        }
        if (header is not { Length: > 0 } metadata)
            return new FlightPutData { Descriptor = descriptor, ReadStarted = started, ReadEnded = Stopwatch.GetTimestamp() };
        // IPC framing: 0xFFFFFFFF, the metadata's length padded so that the body starts 8-byte aligned, metadata, body.
        var headerLength = (int)metadata.Length;
        var padded = (headerLength + 7) & ~7;
        var length = 8L + padded + body.Length;
        if (length > Array.MaxLength)
            return new FlightPutData { Error = $"a message of {length} bytes", ReadStarted = started };
        var pinned = body.Length >= PinnedIpcBytesCodec.PinnedMinBytes;
        var message = GC.AllocateUninitializedArray<byte>((int)length, pinned);
        BinaryPrimitives.WriteInt32LittleEndian(message, -1);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), padded);
        metadata.CopyTo(message.AsSpan(8));
        message.AsSpan(8 + headerLength, padded - headerLength).Clear();
        body.CopyTo(message.AsSpan(8 + padded));
        return new FlightPutData
        {
            Descriptor = descriptor, Message = message, HeaderLength = headerLength, BodyLength = (int)body.Length, IsPinned = pinned,
            ReadStarted = started, ReadEnded = Stopwatch.GetTimestamp(),
        };
    }

    /// <summary>A <c>FlightDescriptor</c>: type (1 = PATH, 2 = CMD), cmd, path.</summary>
    private static FlightDescriptor? ParseDescriptor(ReadOnlySequence<byte> bytes, out string? error)
    {
        var reader = new SequenceReader<byte>(bytes);
        ulong type = 0;
        byte[] command = [];
        var path = new List<string>();
        error = "truncated descriptor";
        while (!reader.End)
        {
            if (!TryReadTag(ref reader, out var field, out var wire)) return null;
            if (field == 1 && wire == WireVarint)
            {
                if (!TryReadVarint(ref reader, out type)) return null;
                continue;
            }
            if (!TrySkipOrRead(ref reader, wire, out var value)) return null;
            if (field == 2 && value is { } c) command = c.ToArray();
            else if (field == 3 && value is { } p) path.Add(Encoding.UTF8.GetString(p));
        }
        error = null;
        return type switch
        {
            1 => FlightDescriptor.CreatePathDescriptor([.. path]),
            2 => FlightDescriptor.CreateCommandDescriptor(command),
            _ => null,
        };
    }

    private static bool TryReadField(ref SequenceReader<byte> reader, out int field, out ReadOnlySequence<byte>? value, out string? error)
    {
        value = null;
        error = null;
        if (!TryReadTag(ref reader, out field, out var wire) || !TrySkipOrRead(ref reader, wire, out value))
        {
            error = "truncated or malformed FlightData";
            return false;
        }
        return true;
    }

    private static bool TryReadTag(ref SequenceReader<byte> reader, out int field, out int wire)
    {
        field = wire = 0;
        if (!TryReadVarint(ref reader, out var tag) || tag >> 3 is 0 or > int.MaxValue) return false;
        field = (int)(tag >> 3);
        wire = (int)(tag & 7);
        return true;
    }

    // A length-delimited field's bytes (no copy); other wire types are skipped (null).
    private static bool TrySkipOrRead(ref SequenceReader<byte> reader, int wire, out ReadOnlySequence<byte>? value)
    {
        value = null;
        switch (wire)
        {
            case WireVarint:
                return TryReadVarint(ref reader, out _);
            case WireFixed64:
                return reader.TryAdvance(8);
            case WireFixed32:
                return reader.TryAdvance(4);
            case WireLengthDelimited:
                if (!TryReadVarint(ref reader, out var length) || length > (ulong)reader.Remaining) return false;
                value = reader.UnreadSequence.Slice(0, (long)length);
                reader.Advance((long)length);
                return true;
            default:
                return false; // groups (deprecated) are not part of FlightData
        }
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b)) return false;
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }
}

/// <summary>SequenceReader helpers.</summary>
file static class SequenceReaderExtensions
{
    public static bool TryAdvance(ref this SequenceReader<byte> reader, long count)
    {
        if (reader.Remaining < count) return false;
        reader.Advance(count);
        return true;
    }
}
