using System.Buffers;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using CsCheck;
using Grpc.Core;
using TimeFusion.Client.Cli.Flight;
using TimeFusion.Silo.Protocol.Flight;

namespace TimeFusion.Tests.Protocol.Flight;

/// <summary>
/// The client's own DoPut writer (<see cref="FlightPutCall"/>) against Apache.Arrow.Flight's writer: the protobuf bytes
/// each hands gRPC for the same batches (captured through their gRPC marshallers, with the payload length each declares
/// checked against what it wrote) are parsed back by the server's DoPut reader (<see cref="FlightPutData"/>,
/// <see cref="FlightPutBatches"/>) into the same descriptor and batches, which equal the batches sent.
/// </summary>
public sealed class FlightPutCallTests
{
    private static readonly TimestampType Micros = new(TimeUnit.Microsecond, "UTC");

    [Fact]
    public void Batches_of_many_column_types_read_back_the_same_from_both_writers() =>
        Gen.Select(Gen.Int[1, 6].SelectMany(n => Gen.Int[0, ColumnKinds - 1].Array[n]), Gen.Int[1, 4], Gen.Int, Gen.Bool)
            .Sample((kinds, batchCount, seed, slice) =>
            {
                var random = new Random(seed);
                var schema = SchemaOf(kinds);
                var batches = Enumerable.Range(0, batchCount).Select(_ =>
                {
                    var rows = random.Next(4) == 0 ? 0 : random.Next(1, 400);
                    var batch = BatchOf(schema, kinds, rows, random);
                    if (!slice || rows < 2) return batch;
                    var offset = random.Next(rows);
                    return batch.Slice(offset, random.Next(rows - offset + 1));
                }).ToArray();
                var descriptor = FlightDescriptor.CreatePathDescriptor("p" + random.Next(1000), "otel_logs_and_spans");

                var ours = Decode(OursAsync(descriptor, schema, batches).GetAwaiter().GetResult(), out var ourDescriptor);
                var library = Decode(LibraryAsync(descriptor, schema, batches).GetAwaiter().GetResult(), out var libraryDescriptor);

                Assert.Equal(descriptor.Paths, ourDescriptor.Paths);
                Assert.Equal(libraryDescriptor.Paths, ourDescriptor.Paths);
                Assert.Equal(batches.Length, ours.Count);
                Assert.Equal(batches.Length, library.Count);
                for (var i = 0; i < batches.Length; i++)
                {
                    Assert.Equal(batches[i].Length, ours[i].Length);
                    Assert.Equal(Ipc(library[i]), Ipc(ours[i]));
                    Assert.Equal(Ipc(batches[i]), Ipc(ours[i]));
                }
            }, iter: 80);

    [Fact]
    public async Task Dictionary_columns_go_first_as_messages_of_their_own_and_every_batch_decodes_with_them()
    {
        // Two dictionary columns: the first dictionary fills the batch's own gRPC message, the second dictionary and the
        // batch follow as held messages; later batches reuse the dictionaries (Arrow's C# writer sends them once).
        var level = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var service = new DictionaryType(Int16Type.Default, StringType.Default, false);
        var schema = new Schema.Builder()
            .Field(f => f.Name("level").DataType(level).Nullable(true))
            .Field(f => f.Name("n").DataType(Int64Type.Default).Nullable(false))
            .Field(f => f.Name("service").DataType(service).Nullable(true))
            .Build();
        var levels = new StringArray.Builder().AppendRange(["INFO", "ERROR", "WARN"]).Build();
        var services = new StringArray.Builder().AppendRange(["api", "db"]).Build();
        var batches = Enumerable.Range(0, 3).Select(b => new RecordBatch(schema,
        [
            new DictionaryArray(level, new Int32Array.Builder().AppendRange(Enumerable.Range(0, 6).Select(i => (i + b) % 3)).Build(), levels),
            new Int64Array.Builder().AppendRange(Enumerable.Range(0, 6).Select(i => (long)(b * 10 + i))).Build(),
            new DictionaryArray(service, new Int16Array.Builder().AppendRange(Enumerable.Range(0, 6).Select(i => (short)((i + b) % 2))).Build(), services),
        ], 6)).ToArray();

        var messages = await OursAsync(FlightDescriptor.CreatePathDescriptor("p", "t"), schema, batches);
        Assert.Equal(1 + 2 + batches.Length, messages.Count); // schema, two dictionaries, the batches
        var read = Decode(messages, out _);
        Assert.Equal(batches.Length, read.Count);
        for (var b = 0; b < batches.Length; b++)
        {
            Assert.Equal(Strings(batches[b], 0), Strings(read[b], 0));
            Assert.Equal(Strings(batches[b], 2), Strings(read[b], 2));
            Assert.Equal(((Int64Array)batches[b].Column(1)).Values.ToArray(), ((Int64Array)read[b].Column(1)).Values.ToArray());
        }
    }

    [Fact]
    public async Task A_batch_the_writer_cannot_encode_fails_the_write_and_names_the_failure()
    {
        var schema = new Schema.Builder().Field(f => f.Name("n").DataType(Int64Type.Default).Nullable(false)).Build();
        var invoker = new CapturingInvoker();
        using var call = await FlightPutCall.StartAsync(invoker, FlightDescriptor.CreatePathDescriptor("p", "t"), schema, default);
        Assert.Null(call.EncodingFailure);
        // An array Arrow's writer has no visitor for throws inside gRPC's serializer: the write fails, the failure is
        // kept, and the call refuses later batches instead of sending a stream cut in the middle of a message.
        var bad = new RecordBatch(schema, [new UnknownArray(new Int64Array.Builder().Append(1).Build())], 1);
        await Assert.ThrowsAsync<NotImplementedException>(() => call.WriteAsync(bad));
        Assert.Single(invoker.Messages); // the schema only
        Assert.NotNull(call.EncodingFailure);
        await Assert.ThrowsAsync<InvalidOperationException>(() => call.WriteAsync(new RecordBatch(schema, [new Int64Array.Builder().Append(2).Build()], 1)));
    }

    private const int ColumnKinds = 7;

    private static Schema SchemaOf(int[] kinds)
    {
        var builder = new Schema.Builder();
        for (var c = 0; c < kinds.Length; c++)
        {
            IArrowType type = kinds[c] switch
            {
                0 => Int64Type.Default,
                1 => Int32Type.Default,
                2 => DoubleType.Default,
                3 => BooleanType.Default,
                4 => StringType.Default,
                5 => Micros,
                _ => BinaryType.Default,
            };
            builder.Field(f => f.Name($"c{c}").DataType(type).Nullable(true));
        }
        return builder.Build();
    }

    private static RecordBatch BatchOf(Schema schema, int[] kinds, int rows, Random random)
    {
        var columns = new IArrowArray[kinds.Length];
        for (var c = 0; c < kinds.Length; c++)
        {
            var nulls = random.Next(3) switch { 0 => 0.0, 1 => 0.3, _ => 1.0 / rows };
            bool Null() => random.NextDouble() < nulls;
            columns[c] = kinds[c] switch
            {
                0 => Fill(new Int64Array.Builder(), rows, Null, b => b.Append(random.NextInt64()), b => b.AppendNull()).Build(),
                1 => Fill(new Int32Array.Builder(), rows, Null, b => b.Append(random.Next()), b => b.AppendNull()).Build(),
                2 => Fill(new DoubleArray.Builder(), rows, Null, b => b.Append(random.NextDouble()), b => b.AppendNull()).Build(),
                3 => Fill(new BooleanArray.Builder(), rows, Null, b => b.Append(random.Next(2) == 0), b => b.AppendNull()).Build(),
                4 => Fill(new StringArray.Builder(), rows, Null, b => b.Append(new string('x', random.Next(40)) + random.Next()), b => b.AppendNull()).Build(),
                5 => Fill(new TimestampArray.Builder(Micros), rows, Null, b => b.Append(DateTimeOffset.UnixEpoch.AddTicks(random.NextInt64(0, 1L << 60) / 10)), b => b.AppendNull()).Build(),
                _ => Fill(new BinaryArray.Builder(), rows, Null, b => b.Append(Bytes(random)), b => b.AppendNull()).Build(),
            };
        }
        return new RecordBatch(schema, columns, rows);
    }

    private static byte[] Bytes(Random random)
    {
        var bytes = new byte[random.Next(30)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static TBuilder Fill<TBuilder>(TBuilder builder, int rows, Func<bool> isNull, Action<TBuilder> value, Action<TBuilder> nullValue)
    {
        for (var i = 0; i < rows; i++)
        {
            if (isNull()) nullValue(builder);
            else value(builder);
        }
        return builder;
    }

    private static List<string> Strings(RecordBatch batch, int column)
    {
        var array = (DictionaryArray)batch.Column(column);
        var values = (StringArray)array.Dictionary;
        return Enumerable.Range(0, batch.Length).Select(i => array.Indices switch
        {
            Int32Array a => values.GetString(a.GetValue(i)!.Value),
            Int16Array a => values.GetString(a.GetValue(i)!.Value),
            _ => throw new InvalidOperationException(),
        }).ToList();
    }

    /// <summary>The batch's IPC stream as a fresh Arrow writer writes it: equal bytes, equal batches (slices normalized).</summary>
    private static byte[] Ipc(RecordBatch batch)
    {
        using var stream = new MemoryStream();
        using (var writer = new ArrowStreamWriter(stream, batch.Schema, leaveOpen: true))
        {
            writer.WriteRecordBatch(batch);
            writer.WriteEnd();
        }
        return stream.ToArray();
    }

    private static async Task<List<byte[]>> OursAsync(FlightDescriptor descriptor, Schema schema, RecordBatch[] batches)
    {
        var invoker = new CapturingInvoker();
        using var call = await FlightPutCall.StartAsync(invoker, descriptor, schema, default);
        foreach (var batch in batches) await call.WriteAsync(batch);
        await call.CompleteAsync();
        return invoker.Messages;
    }

    private static async Task<List<byte[]>> LibraryAsync(FlightDescriptor descriptor, Schema schema, RecordBatch[] batches)
    {
        var invoker = new CapturingInvoker();
        using var call = await new FlightClient(invoker).StartPut(descriptor, schema);
        foreach (var batch in batches) await call.RequestStream.WriteAsync(batch);
        await call.RequestStream.CompleteAsync();
        return invoker.Messages;
    }

    /// <summary>The server's DoPut reader over the captured messages.</summary>
    private static List<RecordBatch> Decode(List<byte[]> messages, out FlightDescriptor descriptor)
    {
        var data = messages.Select(m => FlightPutData.Parse(new ReadOnlySequence<byte>(m))).ToList();
        Assert.All(data, d => Assert.Null(d.Error));
        var reader = new FlightPutBatches(new ListReader(data));
        descriptor = reader.ReadDescriptorAsync(CancellationToken.None).GetAwaiter().GetResult()!;
        var batches = new List<RecordBatch>();
        while (reader.ReadNextAsync(CancellationToken.None).GetAwaiter().GetResult() is { } batch) batches.Add(batch);
        return batches;
    }

    /// <summary>A gRPC "channel" that runs each request through its method's marshaller and keeps the bytes; no responses.</summary>
    private sealed class CapturingInvoker : CallInvoker
    {
        public List<byte[]> Messages { get; } = [];

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
            new(new Writer<TRequest>(method.RequestMarshaller, Messages), new NoResponses<TResponse>(),
                Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
    }

    private sealed class Writer<T>(Marshaller<T> marshaller, List<byte[]> messages) : IClientStreamWriter<T>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(T message)
        {
            var context = new CapturingContext();
            marshaller.ContextualSerializer(message, context);
            messages.Add(context.Payload());
            return Task.CompletedTask;
        }

        public Task CompleteAsync() => Task.CompletedTask;
    }

    private sealed class NoResponses<T> : IAsyncStreamReader<T>
    {
        public T Current => throw new InvalidOperationException();

        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(false);
    }

    /// <summary>gRPC's serialization context as Grpc.Net.Client uses it: a declared payload length must be what is written.</summary>
    private sealed class CapturingContext : SerializationContext
    {
        private int? _declared;
        private ArrayBufferWriter<byte>? _writer;
        private byte[]? _payload;
        private bool _completed;

        public override void SetPayloadLength(int payloadLength)
        {
            Assert.Null(_writer);
            _declared = payloadLength;
        }

        public override IBufferWriter<byte> GetBufferWriter() => _writer ??= new ArrayBufferWriter<byte>();

        public override void Complete() => _completed = true;

        public override void Complete(byte[] payload)
        {
            _payload = payload;
            _completed = true;
        }

        public byte[] Payload()
        {
            Assert.True(_completed, "the serializer did not complete the message");
            var bytes = _payload ?? _writer!.WrittenSpan.ToArray();
            if (_declared is { } declared) Assert.Equal(declared, bytes.Length);
            return bytes;
        }
    }
}
