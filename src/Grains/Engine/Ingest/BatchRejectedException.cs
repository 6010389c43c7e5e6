using TimeFusion.Wire;

namespace TimeFusion.Ingest;

/// <summary>
/// An incoming batch does not fit its table; nothing of it was written. The message names the column
/// (and, where it applies, the first offending row) so a client can fix its data.
/// </summary>
public sealed class BatchRejectedException(string message, string sqlState = SqlState.InvalidParameterValue) : Exception(message)
{
    /// <summary>The SQLSTATE clients get: 22023 unless a more specific code applies (22021 for a NUL character).</summary>
    public string SqlState { get; } = sqlState;
}
