using Grpc.Core;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Maps TimeFusion errors onto gRPC status codes. The SQLSTATE travels twice: at the start of the message
/// (<c>[42601] syntax error …</c>) for people, and in the <c>x-timefusion-sqlstate</c> trailer for programs.
/// </summary>
public static class FlightErrors
{
    /// <summary>The trailer that carries the SQLSTATE.</summary>
    public const string SqlStateTrailer = "x-timefusion-sqlstate";

    /// <summary>The gRPC status code for a SQLSTATE.</summary>
    public static StatusCode CodeFor(string sqlState, bool isRetryable = false) => sqlState switch
    {
        SqlState.UndefinedTable => StatusCode.NotFound,                          // undefined table
        SqlState.InsufficientPrivilege => StatusCode.PermissionDenied,                  // insufficient privilege
        SqlState.InvalidAuthorizationSpecification or SqlState.InvalidPassword => StatusCode.Unauthenticated,
        SqlState.QueryCanceled => StatusCode.Cancelled,                         // query canceled
        SqlState.FeatureNotSupported => StatusCode.Unimplemented,                     // feature not supported
        _ when sqlState.StartsWith("53", StringComparison.Ordinal) => StatusCode.ResourceExhausted, // 53200 memory, 53300 connections
        _ when sqlState.StartsWith("42", StringComparison.Ordinal) => StatusCode.InvalidArgument,   // syntax, unknown column, types
        _ when sqlState.StartsWith("22", StringComparison.Ordinal) => StatusCode.InvalidArgument,   // bad data (22023 rejected batch)
        _ when sqlState.StartsWith("23", StringComparison.Ordinal) => StatusCode.InvalidArgument,   // 23502 a null in a NOT NULL column
        _ when isRetryable => StatusCode.Unavailable,            // e.g. 58030 a table reopening
        _ => StatusCode.Internal,
    };

    /// <summary>The <see cref="RpcException"/> a client receives for <paramref name="error"/>.</summary>
    public static RpcException From(TimeFusionException error) => From(error.SqlState, error.Message, error.IsRetryable);

    /// <summary>The <see cref="RpcException"/> for a SQLSTATE and message.</summary>
    public static RpcException From(string sqlState, string message, bool isRetryable = false) =>
        new(new Status(CodeFor(sqlState, isRetryable), $"[{sqlState}] {message}"), new Metadata { { SqlStateTrailer, sqlState } });
}
