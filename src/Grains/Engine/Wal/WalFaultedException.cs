namespace TimeFusion.Wal;

/// <summary>
/// An append failed because a write or fsync of this log failed (now or earlier). After such a failure
/// the end of the log is unknown, so the log acknowledges nothing more; reopening it recovers.
/// The original failure is the inner exception.
/// </summary>
public sealed class WalFaultedException : WalException
{
    /// <summary>Creates the exception.</summary>
    public WalFaultedException(string message, Exception inner) : base(message, inner)
    {
    }
}
