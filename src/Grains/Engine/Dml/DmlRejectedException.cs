namespace TimeFusion.Dml;

/// <summary>
/// A DELETE or UPDATE was refused before anything was logged or changed: bad SQL, an unknown or protected column,
/// or an expression that fails on the table's rows.
/// </summary>
public sealed class DmlRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DmlRejectedException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public DmlRejectedException(string message, Exception inner) : base(message, inner)
    {
    }
}
