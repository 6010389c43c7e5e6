using System.Diagnostics;
using Apache.Arrow;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using TimeFusion.Tests.Engine;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Arrow;

/// <summary>
/// A large batch is sent through an array rented from the shared pool (<c>ArrowIpc.WriteRented</c>), returned once
/// the codec copied it into the message: the bytes on the wire are exactly those of the plain encoding, send after send
/// (rented arrays reused), and a surrogate is sent once. The wire's timestamps come in the order of the hops.
/// </summary>
public sealed class RentedIpcSendTests
{
    private static readonly Serializer Orleans = new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(RecordBatchSurrogate).Assembly))
        .BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void Large_batches_sent_through_rented_arrays_carry_the_plain_encoding_every_time()
    {
        var batches = new[] { EngineTestKit.Rows("a", 20_000), EngineTestKit.Rows("b", 9_000), EngineTestKit.Rows("c", 20_000, durationBase: 7) };
        for (var round = 0; round < 3; round++)
            foreach (var sent in batches)
            {
                var received = Orleans.Deserialize<RecordBatch>(Orleans.SerializeToArray(sent))!;
                Assert.Equal(ArrowIpc.Write(sent.Schema, [sent]), ArrowIpc.Write(received.Schema, [received]));
            }
    }

    [Fact]
    public void A_large_batch_s_surrogate_is_sent_once_and_a_small_one_s_as_often_as_asked()
    {
        var converter = new RecordBatchConverter();
        var large = converter.ConvertToSurrogate(EngineTestKit.Rows("a", 20_000));
        Assert.NotEmpty(Orleans.SerializeToArray(large));
        // Its array went back to the pool with the first send.
        Assert.Throws<InvalidOperationException>(() => Orleans.SerializeToArray(large));
        var small = converter.ConvertToSurrogate(EngineTestKit.Rows("m", 20));
        Assert.Equal(Orleans.SerializeToArray(small), Orleans.SerializeToArray(small));
    }

    [Fact]
    public void The_wire_events_and_timestamps_follow_the_hops()
    {
        var sent = EngineTestKit.Rows("a", 20_000);
        var events = new List<WireTrace.EncodedBatch>();
        using var subscription = WireTrace.Listener.Subscribe(new Observer(e =>
        {
            if (e.Value is WireTrace.EncodedBatch b && ReferenceEquals(b.Batch, sent)) lock (events) events.Add(b);
        }));
        var before = Stopwatch.GetTimestamp();
        var received = Orleans.Deserialize<RecordBatch>(Orleans.SerializeToArray(sent))!;

        var encoded = Assert.Single(events);
        Assert.InRange(encoded.Started, before, encoded.Written);
        Assert.True(ReceivedBatches.TryGet(received, out var r));
        Assert.InRange(r.ReadStarted, encoded.Written, r.ReadEnded);
        Assert.InRange(r.Decoded, r.ReadEnded, Stopwatch.GetTimestamp());
        Assert.Equal(0, r.GatewayEntered);
    }

    private sealed class Observer(Action<KeyValuePair<string, object?>> next) : IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(KeyValuePair<string, object?> value) => next(value);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
