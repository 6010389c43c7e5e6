namespace TimeFusion.Wal;

/// <summary>
/// Bytes that pass the checksum but cannot be what this build writes: an unknown format version,
/// a MessagePack envelope or DML record with wrong types or missing fields, an Arrow IPC payload with
/// bad offsets or lengths. Such content is rejected, never skipped and never read out of bounds.
/// </summary>
public sealed class WalFormatException : WalException
{
    /// <summary>Creates the exception.</summary>
    public WalFormatException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
