namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>Trace and span ids as the tables hold them: lower-case hex, written as UTF-8 without a string per id.</summary>
internal static class HexId
{
    private static ReadOnlySpan<byte> Digits => "0123456789abcdef"u8;

    /// <summary>Writes <paramref name="id"/> as hex into <paramref name="destination"/> (twice its length); returns the hex.</summary>
    public static ReadOnlySpan<byte> Write(ReadOnlySpan<byte> id, Span<byte> destination)
    {
        for (var i = 0; i < id.Length; i++)
        {
            destination[2 * i] = Digits[id[i] >> 4];
            destination[2 * i + 1] = Digits[id[i] & 0xF];
        }
        return destination[..(2 * id.Length)];
    }

    /// <summary>Whether an id is all zero bytes (OTLP's "no id").</summary>
    public static bool IsZero(ReadOnlySpan<byte> id) => !id.ContainsAnyExcept((byte)0);
}
