using System.Collections.Concurrent;
using System.Diagnostics;
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
/// on first use. <see cref="PutAsync"/> writes one batch and waits for its acknowledgement (one <c>PutResult</c> per batch,
/// sent once the batch is durable); <see cref="WriteAsync"/> writes as an ordinary streaming Flight client does, reading the
/// acknowledgements as they come, with at most <c>depth</c> of this instance's batches written and not yet acknowledged.
/// Not thread-safe: give each writer its own instance.
/// </summary>
public sealed class FlightPutStreams : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly FlightClient _flight;
    private readonly int _depth;
    private readonly Metadata _auth = new() { { "authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("timefusion:timefusion")) } };
    private readonly Dictionary<string, Stream> _calls = new(StringComparer.Ordinal);
    private readonly Queue<Task> _unacknowledged = new();

    /// <param name="silo">The silo to write to (its Flight port; one HTTP/2 connection per instance).</param>
    /// <param name="depth">How many batches <see cref="WriteAsync"/> may have written and not yet acknowledged (1: one at a time).</param>
    public FlightPutStreams(SiloProcess silo, int depth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        _depth = depth;
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.FlightPort}", new GrpcChannelOptions { MaxSendMessageSize = null });
        _flight = new FlightClient(_channel);
    }

    /// <summary>Per batch of <see cref="WriteAsync"/>, from the start of its write until its <c>PutResult</c>.</summary>
    public ConcurrentBag<double> AckMs { get; } = [];

    /// <summary>Per batch, how long writing it took (until the HTTP/2 layer had taken every byte: flow control's share).</summary>
    public ConcurrentBag<double> SendMs { get; } = [];

    /// <summary>Writes <paramref name="batch"/> to <paramref name="project"/>'s table and waits for its acknowledgement.</summary>
    public async Task PutAsync(string project, RecordBatch batch)
    {
        await WriteAsync(project, batch);
        await DrainAsync();
    }

    /// <summary>
    /// Writes <paramref name="batch"/> to <paramref name="project"/>'s table once fewer than <c>depth</c> batches are
    /// unacknowledged (waiting for the oldest first); its acknowledgement is read in the background (<see cref="DrainAsync"/>).
    /// </summary>
    public async Task WriteAsync(string project, RecordBatch batch)
    {
        while (_unacknowledged.Count >= _depth) await _unacknowledged.Dequeue();
        var stream = await StreamAsync(project, batch.Schema);
        var start = Stopwatch.GetTimestamp();
        await stream.Call.RequestStream.WriteAsync(batch);
        SendMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        // Each stream's acknowledgements are read in order, one read at a time.
        stream.LastAck = AckAsync(stream.LastAck, stream.Call, project, start);
        _unacknowledged.Enqueue(stream.LastAck);
    }

    /// <summary>Waits for every batch written to be acknowledged.</summary>
    public async Task DrainAsync()
    {
        while (_unacknowledged.Count > 0) await _unacknowledged.Dequeue();
    }

    /// <summary>Completes every stream (the server ends each after its last acknowledgement) and closes the channel.</summary>
    public async ValueTask DisposeAsync()
    {
        await DrainAsync();
        foreach (var stream in _calls.Values)
        {
            await stream.Call.RequestStream.CompleteAsync();
            while (await stream.Call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
            stream.Call.Dispose();
        }
        _channel.Dispose();
    }

    private async Task<Stream> StreamAsync(string project, Schema schema)
    {
        if (!_calls.TryGetValue(project, out var stream))
        {
            stream = new Stream(await _flight.StartPut(FlightDescriptor.CreatePathDescriptor(project, OtelLogsAndSpans.TableName), schema, _auth));
            _calls.Add(project, stream);
        }
        return stream;
    }

    private async Task AckAsync(Task previous, FlightRecordBatchDuplexStreamingCall call, string project, long start)
    {
        await previous;
        if (!await call.ResponseStream.MoveNext(CancellationToken.None))
            throw new InvalidOperationException($"DoPut into {project} ended without an acknowledgement");
        AckMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    private sealed class Stream(FlightRecordBatchDuplexStreamingCall call)
    {
        public FlightRecordBatchDuplexStreamingCall Call { get; } = call;
        public Task LastAck { get; set; } = Task.CompletedTask;
    }
}
