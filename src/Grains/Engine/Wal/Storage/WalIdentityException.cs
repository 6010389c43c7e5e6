namespace TimeFusion.Wal;

/// <summary>
/// The WAL folder (or an entry in it) belongs to another (project, table): the folder name is a hash of
/// the names and two names can in principle share it, so the full names are checked on every open and
/// in every entry replayed.
/// </summary>
public sealed class WalIdentityException : WalException
{
    /// <summary>Creates the exception.</summary>
    public WalIdentityException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
