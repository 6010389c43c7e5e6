namespace TimeFusion.Buffer;

/// <summary>
/// The buffer could not do what was asked (DuckDB refused an append, a statement failed, the table is gone).
/// Nothing of the failed operation was applied.
/// </summary>
public class BufferException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public BufferException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying error.</summary>
    public BufferException(string message, Exception inner) : base(message, inner)
    {
    }
}
