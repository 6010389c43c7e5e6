namespace TimeFusion.Wal;

/// <summary>The base of every error the write-ahead log raises on purpose.</summary>
public abstract class WalException : IOException
{
    /// <summary>Creates the exception.</summary>
    protected WalException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
