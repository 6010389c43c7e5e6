using System.Buffers.Binary;

namespace TimeFusion.Wal;

/// <summary>
/// The frame around every entry: <c>[length u32 LE][crc32c u32 LE][envelope]</c>, where the CRC-32C covers the
/// <c>length</c> envelope bytes. Nothing else is in a segment: frames follow each other from offset 0.
/// </summary>
internal static class WalEntryFraming
{
    /// <summary>Bytes of the length and CRC fields.</summary>
    public const int HeaderBytes = 8;

    /// <summary>No valid envelope is shorter (array header, version, LSN, operation, two names, payload header).</summary>
    public const int MinEnvelopeBytes = 8;

    /// <summary>Reads a frame header.</summary>
    public static (uint Length, uint Crc) ReadHeader(ReadOnlySpan<byte> header) =>
        (BinaryPrimitives.ReadUInt32LittleEndian(header), BinaryPrimitives.ReadUInt32LittleEndian(header[4..]));

    /// <summary>Writes a frame header.</summary>
    public static void WriteHeader(Span<byte> header, int envelopeLength, uint crc)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)envelopeLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], crc);
    }

    /// <summary>
    /// A cheap test used while searching for the next frame after damage: the first two envelope bytes of every
    /// frame this build writes are a 6-element MessagePack array header and the format version.
    /// </summary>
    public static bool LooksLikeEnvelopeStart(ReadOnlySpan<byte> envelopeStart) =>
        envelopeStart.Length >= 2 && envelopeStart[0] == WalEnvelope.ArrayHeaderByte && envelopeStart[1] == WalEnvelope.CurrentVersion;
}
