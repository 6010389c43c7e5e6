using TimeFusion.Wire;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using TimeFusion.Arrow;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Runs <see cref="ArrowIpcPreflight"/> on every Arrow message a client streams in (DoPut, DoExchange) before
/// Apache.Arrow's Flight reader parses it: that reader recurses over the schema's nesting, so a hostile schema could
/// overflow the stack — a crash no handler catches. Each <c>FlightData</c>'s <c>data_header</c> is one IPC message;
/// the check is bounds-checked and iterative, and a refusal ends the call with <c>22023</c> (InvalidArgument).
/// The Flight protocol types are internal to Apache.Arrow.Flight, so the two fields are read through protobuf
/// reflection (once per message type, then a field accessor per message).
/// </summary>
internal sealed class FlightIpcPreflightInterceptor : Interceptor
{
    /// <inheritdoc />
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        Fields<TRequest>.Header is null
            ? continuation(requestStream, responseStream, context)
            : continuation(new CheckedReader<TRequest>(requestStream), responseStream, context);

    /// <inheritdoc />
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        Fields<TRequest>.Header is null
            ? continuation(requestStream, context)
            : continuation(new CheckedReader<TRequest>(requestStream), context);

    /// <summary>The <c>data_header</c> and <c>data_body</c> fields of a request type, when it is <c>FlightData</c>.</summary>
    private static class Fields<T>
    {
        public static readonly FieldDescriptor? Header;
        public static readonly FieldDescriptor? Body;

        static Fields()
        {
            if (!typeof(IMessage).IsAssignableFrom(typeof(T)))
                return;
            var descriptor = typeof(T).GetProperty("Descriptor", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)?.GetValue(null) as MessageDescriptor;
            var header = descriptor?.FindFieldByName("data_header");
            var body = descriptor?.FindFieldByName("data_body");
            if (header?.FieldType == FieldType.Bytes && body?.FieldType == FieldType.Bytes)
                (Header, Body) = (header, body);
        }
    }

    private sealed class CheckedReader<T>(IAsyncStreamReader<T> inner) : IAsyncStreamReader<T>
    {
        private bool _sawSchema;

        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken).ConfigureAwait(false))
                return false;
            var message = (IMessage)inner.Current!;
            var header = (ByteString)Fields<T>.Header!.Accessor.GetValue(message);
            if (header.IsEmpty)
                return true; // metadata only (e.g. the descriptor before any data)
            var body = (ByteString)Fields<T>.Body!.Accessor.GetValue(message);
            try
            {
                ArrowIpcPreflight.CheckMessage(header.Span, body.Length, ref _sawSchema);
            }
            catch (ArrowValidationException e)
            {
                throw FlightErrors.From(SqlState.InvalidParameterValue, "malformed Arrow data: " + e.Message);
            }
            return true;
        }
    }
}
