using System.Buffers;
using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using CsCheck;
using Google.Protobuf;
using Grpc.Core;
using TimeFusion.Arrow;
using TimeFusion.Silo.Protocol.Flight;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Flight;

/// <summary>
/// DoPut's in-place reader (<see cref="FlightPutData"/>, <see cref="FlightPutBatches"/>) against the IPC stream the
/// batches came from: FlightData protobuf (written with Google.Protobuf, split into gRPC-like buffer segments at random
/// points) decodes to the same rows; bodies from the pinned threshold on are recorded as received in place; dictionaries
/// still decode; any truncation is the client's error (InvalidArgument), never a crash or a wrong batch.
/// </summary>
public sealed class FlightPutDataTests
{
    private static readonly FlightDescriptor Target = FlightDescriptor.CreatePathDescriptor("p0", "otel_logs_and_spans");

    [Fact]
    public void Batches_read_back_equal_to_the_sent_ones_and_large_bodies_are_received_pinned() =>
        Gen.Select(Gen.Int[0, 4000], Gen.Int[0, 120], Gen.Int[1, 5000], Gen.Bool).Sample((rows, nameLength, segment, metadataFirst) =>
        {
            var batch = FlightTestBatches.Rows(FlightTestBatches.Ids("r", rows), nameLength: nameLength);
            var messages = MessagesOf(batch.Schema, batch);
            var data = new List<FlightPutData>
            {
                FlightPutData.Parse(Segmented(FlightData(Target, messages[0].Header, [], metadataFirst), segment)),
                FlightPutData.Parse(Segmented(FlightData(null, messages[1].Header, messages[1].Body, metadataFirst), segment)),
            };
            var reader = new FlightPutBatches(new ListReader(data));
            Assert.Equal(Target.Paths, reader.ReadDescriptorAsync(CancellationToken.None).GetAwaiter().GetResult()!.Paths);
            var read = reader.ReadNextAsync(CancellationToken.None).GetAwaiter().GetResult()!;
            Assert.Null(reader.ReadNextAsync(CancellationToken.None).GetAwaiter().GetResult());
            AssertSameRows(batch, read);
            var pinned = messages[1].Body.Length >= PinnedIpcBytesCodec.PinnedMinBytes;
            Assert.Equal(pinned, ReceivedBatches.TryGet(read, out var received));
            if (pinned) Assert.Same(data[1].Message, received!.Block);
        }, iter: 60);

    [Fact]
    public async Task A_dictionary_encoded_column_decodes_with_the_dictionary_sent_before_it()
    {
        var type = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var schema = new Schema.Builder().Field(f => f.Name("level").DataType(type).Nullable(true)).Build();
        var indices = new Int32Array.Builder().AppendRange([1, 0, 1, 1]).Build();
        var dictionary = new StringArray.Builder().AppendRange(["INFO", "ERROR"]).Build();
        var batch = new RecordBatch(schema, [new DictionaryArray(type, indices, dictionary)], 4);
        var messages = MessagesOf(schema, batch);
        Assert.Equal(3, messages.Count); // schema, dictionary, batch
        var reader = new FlightPutBatches(new ListReader(messages.Select((m, i) =>
            FlightPutData.Parse(new ReadOnlySequence<byte>(FlightData(i == 0 ? Target : null, m.Header, m.Body, false)))).ToList()));
        await reader.ReadDescriptorAsync(CancellationToken.None);
        var read = (await reader.ReadNextAsync(CancellationToken.None))!;
        var column = (DictionaryArray)read.Column(0);
        var values = (StringArray)column.Dictionary;
        Assert.Equal(["ERROR", "INFO", "ERROR", "ERROR"], Enumerable.Range(0, 4).Select(i => values.GetString(((Int32Array)column.Indices).GetValue(i)!.Value)));
    }

    [Fact]
    public async Task Every_batch_of_a_dictionary_stream_decodes_with_the_dictionary_sent_before_them()
    {
        // One dictionary, then several batches indexing it (Arrow's C# writer sends a dictionary once): each decodes.
        var type = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var schema = new Schema.Builder().Field(f => f.Name("level").DataType(type).Nullable(true)).Build();
        string[] words = ["INFO", "ERROR", "WARN"];
        var dictionary = new StringArray.Builder().AppendRange(words).Build();
        var batches = Enumerable.Range(0, 4).Select(b => new RecordBatch(schema,
            [new DictionaryArray(type, new Int32Array.Builder().AppendRange(Enumerable.Range(0, 5).Select(i => (i + b) % 3)).Build(), dictionary)], 5)).ToArray();
        var messages = MessagesOf(schema, batches);
        Assert.Equal(2 + batches.Length, messages.Count); // schema, dictionary, the batches
        var reader = new FlightPutBatches(new ListReader(messages.Select((m, i) =>
            FlightPutData.Parse(new ReadOnlySequence<byte>(FlightData(i == 0 ? Target : null, m.Header, m.Body, false)))).ToList()));
        await reader.ReadDescriptorAsync(CancellationToken.None);
        for (var b = 0; b < batches.Length; b++)
        {
            var column = (DictionaryArray)(await reader.ReadNextAsync(CancellationToken.None))!.Column(0);
            Assert.Equal(Enumerable.Range(0, 5).Select(i => words[(i + b) % 3]),
                Enumerable.Range(0, 5).Select(i => ((StringArray)column.Dictionary).GetString(((Int32Array)column.Indices).GetValue(i)!.Value)));
        }
        Assert.Null(await reader.ReadNextAsync(CancellationToken.None));
    }

    [Fact]
    public void A_truncated_FlightData_is_InvalidArgument() =>
        Gen.Select(Gen.Int[1, 3000], Gen.Double[0, 1]).Sample((rows, at) =>
        {
            var batch = FlightTestBatches.Rows(FlightTestBatches.Ids("t", rows), nameLength: 7);
            var messages = MessagesOf(batch.Schema, batch);
            var whole = FlightData(null, messages[1].Header, messages[1].Body, metadataFirst: false);
            var cut = Math.Clamp((int)(at * whole.Length), 1, whole.Length - 1);
            var reader = new FlightPutBatches(new ListReader([
                FlightPutData.Parse(new ReadOnlySequence<byte>(FlightData(Target, messages[0].Header, [], false))),
                FlightPutData.Parse(new ReadOnlySequence<byte>(whole, 0, cut)),
            ]));
            reader.ReadDescriptorAsync(CancellationToken.None).GetAwaiter().GetResult();
            var e = Assert.Throws<RpcException>(() => reader.ReadNextAsync(CancellationToken.None).GetAwaiter().GetResult());
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        }, iter: 60);

    private static void AssertSameRows(RecordBatch expected, RecordBatch actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected.ColumnCount, actual.ColumnCount);
        for (var c = 0; c < expected.ColumnCount; c++)
        {
            if (expected.Column(c) is StringArray s)
                Assert.Equal(Enumerable.Range(0, s.Length).Select(i => s.GetString(i)), Enumerable.Range(0, s.Length).Select(i => ((StringArray)actual.Column(c)).GetString(i)));
            else
                Assert.Equal(((TimestampArray)expected.Column(c)).Values.ToArray(), ((TimestampArray)actual.Column(c)).Values.ToArray());
        }
    }

    private sealed record IpcMessage(byte[] Header, byte[] Body);

    /// <summary>The messages of the IPC stream of <paramref name="batches"/> (as Flight sends them: metadata and body apart).</summary>
    private static List<IpcMessage> MessagesOf(Schema schema, params RecordBatch[] batches)
    {
        using var stream = new MemoryStream();
        using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteStart();
            foreach (var batch in batches) writer.WriteRecordBatch(batch);
            writer.WriteEnd();
        }
        var bytes = stream.ToArray();
        var messages = new List<IpcMessage>();
        var position = 0;
        var sawSchema = false;
        while (true)
        {
            Assert.Equal(-1, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position)));
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position + 4));
            position += 8;
            if (length == 0) return messages;
            var header = bytes.AsSpan(position, length).ToArray();
            var body = (int)ArrowIpcPreflight.CheckMessage(header, bytes.Length - position - length, ref sawSchema);
            messages.Add(new IpcMessage(header, bytes.AsSpan(position + length, body).ToArray()));
            position += length + body;
        }
    }

    /// <summary>FlightData: descriptor (1), data_header (2), app_metadata (3), data_body (1000), metadata first or last.</summary>
    private static byte[] FlightData(FlightDescriptor? descriptor, byte[] header, byte[] body, bool metadataFirst)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        if (metadataFirst) WriteBytes(output, 3, [1, 2, 3]);
        if (descriptor is not null)
        {
            using var d = new MemoryStream();
            var o = new CodedOutputStream(d);
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteEnum(1); // PATH
            foreach (var path in descriptor.Paths)
            {
                o.WriteTag(3, WireFormat.WireType.LengthDelimited);
                o.WriteString(path);
            }
            o.Flush();
            WriteBytes(output, 1, d.ToArray());
        }
        if (header.Length > 0) WriteBytes(output, 2, header);
        if (!metadataFirst) WriteBytes(output, 3, [4, 5]);
        if (body.Length > 0) WriteBytes(output, 1000, body);
        output.Flush();
        return stream.ToArray();
    }

    private static void WriteBytes(CodedOutputStream output, int field, byte[] bytes)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
    }

    /// <summary>The bytes as a sequence of segments of <paramref name="size"/> bytes (gRPC hands the marshaller such a sequence).</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        if (bytes.Length <= size) return new ReadOnlySequence<byte>(bytes);
        var first = new Segment(bytes.AsMemory(0, size), 0);
        var last = first;
        for (var offset = size; offset < bytes.Length; offset += size)
            last = last.Append(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
