namespace TimeFusion.Wire;

/// <summary>
/// An error as it reaches clients: a PostgreSQL SQLSTATE code (e.g. <c>42601</c> syntax error, <c>42P01</c> unknown
/// table, <c>42501</c> insufficient privilege, <c>22023</c> bad batch, <c>53200</c> memory pressure) and a message.
/// <see cref="IsRetryable"/> says whether the same request may succeed later (backpressure, a table reopening).
/// </summary>
[GenerateSerializer]
public sealed class TimeFusionException : Exception
{
    /// <summary>Creates the error.</summary>
    public TimeFusionException(string sqlState, string message, bool isRetryable = false) : base(message)
    {
        SqlState = sqlState;
        IsRetryable = isRetryable;
    }

    /// <summary>The SQLSTATE code.</summary>
    [Id(0)] public string SqlState { get; private set; }

    /// <summary>Whether retrying the same request may succeed.</summary>
    [Id(1)] public bool IsRetryable { get; private set; }
}
