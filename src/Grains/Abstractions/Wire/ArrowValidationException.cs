namespace TimeFusion.Arrow;

/// <summary>An Arrow batch or IPC stream whose buffers, offsets, lengths or structure are not consistent.</summary>
public sealed class ArrowValidationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ArrowValidationException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
