namespace TimeFusion.Buffer;

/// <summary>
/// Memory for a write could not be reserved: the silo's buffers are at their hard limit and not enough was
/// released within the allowed wait. Retryable — the client should back off and send the batch again;
/// nothing of it was written.
/// </summary>
public sealed class MemoryPressureException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MemoryPressureException(string message, bool isRetryable = true) : base(message)
    {
        IsRetryable = isRetryable;
    }

    /// <summary>
    /// True when waiting and retrying can succeed; false when the request can never fit (it is larger than
    /// the hard limit itself) and must be split.
    /// </summary>
    public bool IsRetryable { get; }
}
