namespace TimeFusion.Wal;

/// <summary>
/// Another writer changed a segment under this log (on Azure, an append-position condition failed with 412,
/// or a segment this log was creating already exists). There must be one writer per (project, table).
/// </summary>
public sealed class WalConflictException : WalException
{
    /// <summary>Creates the exception.</summary>
    public WalConflictException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
