namespace TimeFusion.Wal;

/// <summary>
/// Damaged WAL bytes (a CRC mismatch, an impossible length, entries out of LSN order) beyond what
/// <see cref="WalOptions.MaxCorruptEntries"/> allows. Names the segment and byte position of the damage.
/// </summary>
public sealed class WalCorruptException : WalException
{
    /// <summary>Creates the exception.</summary>
    public WalCorruptException(string message, string segment, long position, Exception? inner = null)
        : base(message, inner)
    {
        Segment = segment;
        Position = position;
    }

    /// <summary>The segment (file or blob name, relative to the WAL folder) holding the damage.</summary>
    public string Segment { get; }

    /// <summary>The byte offset of the damaged frame within the segment.</summary>
    public long Position { get; }
}
