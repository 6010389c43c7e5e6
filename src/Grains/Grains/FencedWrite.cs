using TimeFusion.Delta;
using TimeFusion.Wal;

namespace TimeFusion.Grains;

/// <summary>
/// Recognises a write refused because another silo took the table over (cluster mode's fencing): the WAL segment's
/// lease was broken by the new owner (<see cref="WalConflictException"/>, directly or as the cause of a faulted WAL or
/// table) or the Delta commit lost to the new owner's ownership commit (<see cref="DeltaConcurrentCommitException"/>).
/// </summary>
internal static class FencedWrite
{
    /// <summary>The stable text every such refusal is logged with (operators and the cluster tests look for it).</summary>
    public const string LogMarker = "refused (fenced)";

    /// <summary>Whether <paramref name="e"/> or one of its causes is a fencing refusal.</summary>
    public static bool Is(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is WalConflictException or DeltaConcurrentCommitException) return true;
        }
        return false;
    }
}
