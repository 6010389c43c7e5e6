namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>Trace and span ids as the tables hold them: lower-case hex, written as UTF-8 without a string per id.</summary>
internal static class HexId
{
    /// <summary>Writes <paramref name="id"/> as hex into <paramref name="destination"/> (twice its length); returns the hex.</summary>
    public static ReadOnlySpan<byte> Write(ReadOnlySpan<byte> id, Span<byte> destination) =>
        Convert.TryToHexStringLower(id, destination, out var written) ? destination[..written] : throw new ArgumentException("the destination is too small", nameof(destination));

    /// <summary>Whether an id is all zero bytes (OTLP's "no id").</summary>
    public static bool IsZero(ReadOnlySpan<byte> id) => !id.ContainsAnyExcept((byte)0);
}
