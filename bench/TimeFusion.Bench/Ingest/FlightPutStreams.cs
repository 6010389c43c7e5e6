using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;
using TimeFusion.Bench.Peers;
using TimeFusion.Client.Cli.Flight;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// Flight DoPut streams into a silo's <c>otel_logs_and_spans</c> tables as the admin: one open stream per project, opened
/// on first use. <see cref="PutAsync"/> writes one batch and waits for its acknowledgement (one <c>PutResult</c> per batch,
/// sent once the batch is durable); <see cref="WriteAsync"/> writes as an ordinary streaming Flight client does, reading the
/// acknowledgements as they come, with at most <c>depth</c> of this instance's batches written and not yet acknowledged.
/// Written by Apache.Arrow.Flight's writer (<see cref="FlightPutWriter.Library"/>, what an ordinary .NET Flight client does)
/// or by the command line's <see cref="FlightPutCall"/> (<see cref="FlightPutWriter.TimeFusion"/>: FlightData encoded
/// straight into gRPC's buffer). Not thread-safe: give each writer its own instance.
/// </summary>
public sealed class FlightPutStreams : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly FlightClient _flight;
    private readonly CallInvoker _invoker;
    private readonly int _depth;
    private readonly FlightPutWriter _writer;
    private readonly Metadata _auth = new() { { "authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("timefusion:timefusion")) } };
    private readonly Dictionary<string, Stream> _calls = new(StringComparer.Ordinal);
    private readonly Queue<Task> _unacknowledged = new();

    /// <param name="silo">The silo to write to (its Flight port; one HTTP/2 connection per instance).</param>
    /// <param name="depth">How many batches <see cref="WriteAsync"/> may have written and not yet acknowledged (1: one at a time).</param>
    /// <param name="writer">Whose DoPut writer encodes the batches.</param>
    public FlightPutStreams(SiloProcess silo, int depth = 1, FlightPutWriter writer = FlightPutWriter.Library)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        _depth = depth;
        _writer = writer;
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.FlightPort}", new GrpcChannelOptions { MaxSendMessageSize = null });
        _flight = new FlightClient(_channel);
        _invoker = _channel.CreateCallInvoker();
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
        await stream.WriteAsync(batch);
        SendMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        // Each stream's acknowledgements are read in order, one read at a time.
        stream.LastAck = AckAsync(stream.LastAck, stream.Responses, project, start);
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
            await stream.CompleteAsync();
            while (await stream.Responses.MoveNext(CancellationToken.None))
            {
            }
            stream.Dispose();
        }
        _channel.Dispose();
    }

    private async Task<Stream> StreamAsync(string project, Schema schema)
    {
        if (!_calls.TryGetValue(project, out var stream))
        {
            var descriptor = FlightDescriptor.CreatePathDescriptor(project, OtelLogsAndSpans.TableName);
            stream = _writer == FlightPutWriter.TimeFusion
                ? new Stream(await FlightPutCall.StartAsync(_invoker, descriptor, schema, new CallOptions(_auth)))
                : new Stream(await _flight.StartPut(descriptor, schema, _auth));
            _calls.Add(project, stream);
        }
        return stream;
    }

    private async Task AckAsync(Task previous, IAsyncStreamReader<FlightPutResult> responses, string project, long start)
    {
        await previous;
        if (!await responses.MoveNext(CancellationToken.None))
            throw new InvalidOperationException($"DoPut into {project} ended without an acknowledgement");
        AckMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    // One DoPut call, through either writer.
    private sealed class Stream : IDisposable
    {
        private readonly FlightRecordBatchDuplexStreamingCall? _library;
        private readonly FlightPutCall? _ours;

        public Stream(FlightRecordBatchDuplexStreamingCall call) => _library = call;

        public Stream(FlightPutCall call) => _ours = call;

        public Task LastAck { get; set; } = Task.CompletedTask;

        public IAsyncStreamReader<FlightPutResult> Responses => _ours?.ResponseStream ?? _library!.ResponseStream;

        public Task WriteAsync(RecordBatch batch) => _ours?.WriteAsync(batch) ?? _library!.RequestStream.WriteAsync(batch);

        public Task CompleteAsync() => _ours?.CompleteAsync() ?? _library!.RequestStream.CompleteAsync();

        public void Dispose()
        {
            _ours?.Dispose();
            _library?.Dispose();
        }
    }
}

/// <summary>Whose writer encodes a bench DoPut's batches.</summary>
public enum FlightPutWriter
{
    /// <summary>Apache.Arrow.Flight's <c>FlightClient.StartPut</c> writer (an ordinary .NET Flight client).</summary>
    Library,

    /// <summary>The command line's <see cref="FlightPutCall"/>.</summary>
    TimeFusion,
}
