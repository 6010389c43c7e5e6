using System.Text.Unicode;
using Google.Protobuf;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;

/// <summary>
/// Reads an OTLP protobuf message held in one array with Google.Protobuf's <see cref="CodedInputStream"/> (tags, varints,
/// fixed-width values, skipping unknown fields), but hands out the payload of a <c>string</c> or <c>bytes</c> field as a
/// span of the array instead of a new <see cref="string"/>/<see cref="ByteString"/>: the fast decoders write those bytes
/// straight into columns and JSON. A nested message is read in place between the position after its length and its end.
/// </summary>
/// <remarks>
/// Shapes the fast decoders do not reproduce exactly (a singular message field sent twice, which protobuf merges; a oneof
/// set twice; a field after the point where the decoder already wrote its neighbours; invalid UTF-8 in a string; nesting
/// deeper than <see cref="MaxDepth"/>) throw <see cref="WireFallbackException"/>: the caller then decodes the request with
/// the generated messages instead, so such requests are mapped exactly as before, only slower.
/// </remarks>
internal sealed class OtlpWireReader
{
    /// <summary>The nesting (messages inside messages) handled here; deeper requests go to the generated decoder.</summary>
    public const int MaxDepth = 48;

    private readonly byte[] _buffer;
    private readonly CodedInputStream _input;
    private readonly int _end;
    private readonly int _shift;
    private uint _tag;

    /// <summary>A reader over <paramref name="length"/> bytes of <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    public OtlpWireReader(byte[] buffer, int offset, int length)
    {
        _buffer = buffer;
        _input = new CodedInputStream(buffer, offset, length);
        Offset = offset;
        _end = offset + length;
        _shift = offset - (int)_input.Position; // whether the stream counts from the array's start or the slice's

    }

    /// <summary>Where the message starts in the array.</summary>
    public int Offset { get; }

    /// <summary>The position in the array (the next byte to read).</summary>
    public int Position => _shift + (int)_input.Position;

    /// <summary>The end of the top-level message.</summary>
    public int End => _end;

    /// <summary>Whether the message ending at <paramref name="end"/> has more fields.</summary>
    public bool More(int end) => Position < end;

    /// <summary>The next field's tag (field number and wire type, as generated code switches on).</summary>
    public uint ReadTag() => _tag = _input.ReadTag();

    /// <summary>Skips the field whose tag was just read (an unknown field, or one the mapping ignores).</summary>
    public void Skip()
    {
        // CodedInputStream skips nothing for the wire types 6 and 7 that do not exist, where the generated messages'
        // unknown-field handling refuses them (as an end-group tag without its group): theirs is the ruling.
        if (WireFormat.GetTagWireType(_tag) is WireFormat.WireType.EndGroup or > WireFormat.WireType.Fixed32)
            throw new WireFallbackException("wire type");
        _input.SkipLastField();
    }

    /// <summary>A <c>fixed64</c> field.</summary>
    public ulong Fixed64() => _input.ReadFixed64();

    /// <summary>A <c>fixed32</c> field.</summary>
    public uint Fixed32() => _input.ReadFixed32();

    /// <summary>A <c>double</c> field.</summary>
    public double Double() => _input.ReadDouble();

    /// <summary>An <c>int64</c> field.</summary>
    public long Int64() => _input.ReadInt64();

    /// <summary>An <c>int32</c> field.</summary>
    public int Int32() => _input.ReadInt32();

    /// <summary>A <c>uint32</c> field.</summary>
    public uint UInt32() => _input.ReadUInt32();

    /// <summary>An enum field.</summary>
    public int Enum() => _input.ReadEnum();

    /// <summary>A <c>bool</c> field.</summary>
    public bool Bool() => _input.ReadBool();

    /// <summary>A <c>bytes</c> field's payload, as a span of the request.</summary>
    public ReadOnlySpan<byte> Bytes()
    {
        // CodedInputStream skips the field (length prefix and payload, checked against the end of the data); the payload
        // is what follows the length prefix, a varint whose last byte is the first one below 0x80.
        var start = Position;
        _input.SkipLastField();
        var end = Position;
        var prefix = _buffer.AsSpan(start, end - start).IndexOfAnyInRange((byte)0, (byte)0x7F) + 1;
        return _buffer.AsSpan(start + prefix, end - start - prefix);
    }

    /// <summary>A <c>string</c> field's UTF-8 payload; invalid UTF-8 goes to the generated decoder (which rules on it).</summary>
    public ReadOnlySpan<byte> Utf8()
    {
        var bytes = Bytes();
        return Utf8Validity(bytes) ? bytes : throw new WireFallbackException("invalid UTF-8");
    }

    /// <summary>Enters the nested message field whose tag was just read; returns where it ends.</summary>
    public int Enter(ref int depth)
    {
        if (++depth > MaxDepth) throw new WireFallbackException("nesting");
        var length = _input.ReadLength();
        var end = Position + length;
        if (length < 0 || end > _end) throw new WireFallbackException("a nested message runs past the end of its parent");
        return end;
    }

    /// <summary>Leaves a nested message: all of it must have been read, nothing beyond.</summary>
    public void Leave(int end, ref int depth)
    {
        depth--;
        if (Position != end) throw new WireFallbackException("a field runs past the end of its message");
    }

    private static bool Utf8Validity(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);
}

/// <summary>A request shape the fast decoder leaves to the generated messages (see <see cref="OtlpWireReader"/>).</summary>
internal sealed class WireFallbackException(string reason) : Exception(reason);
