using System.Buffers.Binary;

namespace TimeFusion.CrashChild;

/// <summary>
/// Payloads that describe themselves: <c>[writer i32][seq i64][size i32]</c> then bytes derived from those three,
/// so a reader can tell an intact payload from a damaged or invented one. Shared (as source) with the tests.
/// </summary>
public static class CrashPayloads
{
    public const int HeaderBytes = 16;

    public static byte[] Create(int writer, long seq, int size)
    {
        size = Math.Max(size, HeaderBytes);
        var bytes = new byte[size];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, writer);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4), seq);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), size);
        var state = (ulong)(writer + 1) * 0x9E3779B97F4A7C15UL ^ (ulong)seq * 0xBF58476D1CE4E5B9UL ^ (ulong)size;
        for (var i = HeaderBytes; i < size; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes[i] = (byte)state;
        }
        return bytes;
    }

    /// <summary>The (writer, seq) of an intact payload, or null when the bytes are not one.</summary>
    public static (int Writer, long Seq)? Check(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < HeaderBytes) return null;
        var writer = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var seq = BinaryPrimitives.ReadInt64LittleEndian(payload[4..]);
        var size = BinaryPrimitives.ReadInt32LittleEndian(payload[12..]);
        if (size != payload.Length || writer < 0 || seq < 0) return null;
        return payload.SequenceEqual(Create(writer, seq, size)) ? (writer, seq) : null;
    }
}
