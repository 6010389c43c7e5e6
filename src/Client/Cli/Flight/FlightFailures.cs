using System.Net.Http;
using System.Net.Sockets;
using Grpc.Core;

namespace TimeFusion.Client.Cli.Flight;

/// <summary>Turns a failed Flight call into one line for people: the address tried, and the server's message with its SQLSTATE.</summary>
public static class FlightFailures
{
    /// <summary>The <see cref="CliException"/> for <paramref name="e"/>.</summary>
    public static CliException Describe(RpcException e, ConnectionSettings settings) => e.StatusCode switch
    {
        StatusCode.Unavailable when IsTransport(e) =>
            new CliException($"cannot reach the TimeFusion server at {settings.Server}: {TransportReason(e)} (is it running? start one with `timefusion serve`)"),
        StatusCode.DeadlineExceeded => new CliException($"the TimeFusion server at {settings.Server} did not answer in time"),
        StatusCode.Unauthenticated => new CliException($"login to {settings.Server} as '{settings.User}' failed: {e.Status.Detail}"),
        StatusCode.Cancelled => new CliException("cancelled"),
        StatusCode.Internal when string.IsNullOrEmpty(e.Status.Detail) || e.Status.Detail.StartsWith("Error starting gRPC call", StringComparison.Ordinal) =>
            new CliException($"the connection to {settings.Server} failed: {TransportReason(e)} (is it a TimeFusion Flight endpoint?)"),
        _ => new CliException("ERROR: " + e.Status.Detail),
    };

    private static bool IsTransport(RpcException e) =>
        e.Status.DebugException is HttpRequestException or SocketException or IOException or OperationCanceledException
        || e.Status.Detail.StartsWith("Error starting gRPC call", StringComparison.Ordinal)
        || e.Status.Detail.Contains("Error connecting", StringComparison.OrdinalIgnoreCase);

    private static string TransportReason(RpcException e)
    {
        for (var inner = e.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException s) return s.Message;
            if (inner is TimeoutException or TaskCanceledException) return $"no connection within {FlightConnection.ConnectTimeout.TotalSeconds:0.#} s";
        }
        return e.Status.DebugException?.InnerException?.Message ?? e.Status.DebugException?.Message ?? e.Status.Detail;
    }
}
