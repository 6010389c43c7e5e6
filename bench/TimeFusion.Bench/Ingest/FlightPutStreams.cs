using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;
using TimeFusion.Bench.Peers;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// Flight DoPut streams into a silo's <c>otel_logs_and_spans</c> tables as the admin: one open stream per project, opened
/// on first use; <see cref="PutAsync"/> writes one batch and waits for its acknowledgement (one <c>PutResult</c> per batch,
/// sent once the batch is durable). Not thread-safe per project: give each writer its own instance or its own projects.
/// </summary>
public sealed class FlightPutStreams : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly FlightClient _flight;
    private readonly Metadata _auth = new() { { "authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("timefusion:timefusion")) } };
    private readonly Dictionary<string, FlightRecordBatchDuplexStreamingCall> _calls = new(StringComparer.Ordinal);

    public FlightPutStreams(SiloProcess silo)
    {
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.FlightPort}", new GrpcChannelOptions { MaxSendMessageSize = null });
        _flight = new FlightClient(_channel);
    }

    /// <summary>Writes <paramref name="batch"/> to <paramref name="project"/>'s table and waits for its acknowledgement.</summary>
    public async Task PutAsync(string project, RecordBatch batch)
    {
        if (!_calls.TryGetValue(project, out var call))
        {
            call = await _flight.StartPut(FlightDescriptor.CreatePathDescriptor(project, OtelLogsAndSpans.TableName), batch.Schema, _auth);
            _calls.Add(project, call);
        }
        await call.RequestStream.WriteAsync(batch);
        if (!await call.ResponseStream.MoveNext(CancellationToken.None))
            throw new InvalidOperationException($"DoPut into {project} ended without an acknowledgement");
    }

    /// <summary>Completes every stream (the server ends each after its last acknowledgement) and closes the channel.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var call in _calls.Values)
        {
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
            call.Dispose();
        }
        _channel.Dispose();
    }
}
