using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Otlp;

/// <summary>The kinds of failure an export can meet; each front end maps them to its own codes.</summary>
public enum OtlpFailureKind
{
    /// <summary>No or wrong credentials (HTTP 401, gRPC UNAUTHENTICATED).</summary>
    Unauthenticated,

    /// <summary>The user may not write the project (HTTP 403, gRPC PERMISSION_DENIED).</summary>
    PermissionDenied,

    /// <summary>The body could not be decoded or its rows were refused (HTTP 400, gRPC INVALID_ARGUMENT).</summary>
    Invalid,

    /// <summary>An unknown <c>Content-Type</c> or <c>Content-Encoding</c> (HTTP 415).</summary>
    Unsupported,

    /// <summary>The body is larger than <see cref="OtlpOptions.MaxRequestBytes"/> (HTTP 413, gRPC RESOURCE_EXHAUSTED).</summary>
    TooLarge,

    /// <summary>The silo's memory budget is full: retry later (HTTP 429 + Retry-After, gRPC RESOURCE_EXHAUSTED + RetryInfo).</summary>
    Throttled,

    /// <summary>Temporarily unavailable, e.g. a table reopening (HTTP 503 + Retry-After, gRPC UNAVAILABLE + RetryInfo).</summary>
    Unavailable,

    /// <summary>Anything else (HTTP 500, gRPC INTERNAL); the details stay in the silo's log.</summary>
    Internal,
}

/// <summary>Why an export failed, in words a client may see.</summary>
/// <param name="kind">The kind of failure.</param>
/// <param name="message">The message (with the SQLSTATE in brackets when there is one).</param>
public sealed class OtlpFailureException(OtlpFailureKind kind, string message) : Exception(message)
{
    /// <summary>The kind of failure.</summary>
    public OtlpFailureKind Kind { get; } = kind;

    /// <summary>Whether the sender should retry after a while.</summary>
    public bool IsRetryable => Kind is OtlpFailureKind.Throttled or OtlpFailureKind.Unavailable;

    /// <summary>The failure an engine error stands for (backpressure 53xxx throttles; other retryable errors are unavailability).</summary>
    public static OtlpFailureException From(TimeFusionException e)
    {
        var kind = e.SqlState switch
        {
            _ when e.SqlState.StartsWith("53", StringComparison.Ordinal) => OtlpFailureKind.Throttled,
            _ when e.IsRetryable => OtlpFailureKind.Unavailable,
            SqlState.InsufficientPrivilege => OtlpFailureKind.PermissionDenied,
            SqlState.InvalidAuthorizationSpecification or SqlState.InvalidPassword => OtlpFailureKind.Unauthenticated,
            _ when e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("42", StringComparison.Ordinal) => OtlpFailureKind.Invalid,
            _ => OtlpFailureKind.Internal,
        };
        return new OtlpFailureException(kind, $"[{e.SqlState}] {e.Message}");
    }
}
