using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Arrow;
using TimeFusion.Query.Execution;
using TimeFusion.Tests.Wal;
using TimeFusion.Wire;
using Xunit;

namespace TimeFusion.Tests.Arrow;

/// <summary>
/// The IPC preflight guards every place client or peer bytes are decoded, not only WAL replay: <see cref="ArrowIpc.Read"/>
/// (and so the Orleans codecs) and the query layer's <see cref="QueryBatchesIpc"/>. A schema nested 200 deep would make
/// Apache.Arrow's reader recurse; these calls refuse it with a clean exception instead.
/// </summary>
public sealed class ArrowIpcPreflightWireTests
{
    private static readonly byte[] Hostile = WalHostilePayloadTests.NestedLists(200);

    [Fact]
    public void ArrowIpc_Read_refuses_a_hostile_schema()
    {
        Assert.Contains("nests deeper", Assert.Throws<ArrowValidationException>(() => ArrowIpc.Read(Hostile)).Message);
        var (schema, batches) = ArrowIpc.Read(WalHostilePayloadTests.NestedLists(40));
        Assert.Single(schema.FieldsList);
        Assert.All(batches, b => b.Dispose());
    }

    [Fact]
    public void The_Orleans_codecs_refuse_a_hostile_payload()
    {
        var single = new RecordBatchConverter();
        Assert.Contains("nests deeper", Assert.Throws<ArrowValidationException>(() => single.ConvertFromSurrogate(new RecordBatchSurrogate { Ipc = new PinnedIpcBytes(Hostile) })).Message);
        var many = new ArrowBatchesConverter();
        var batches = many.ConvertFromSurrogate(new ArrowBatchesSurrogate { Ipc = Hostile });
        Assert.Throws<ArrowValidationException>(() => batches.Batches);
    }

    [Fact]
    public void Truncated_and_padded_streams_are_refused_and_good_ones_round_trip()
    {
        using var batch = new RecordBatch(new Schema([new Field("a", Int64Type.Default, true)], null),
            [new Int64Array.Builder().Append(1).Append(2).Build()], 2);
        var ipc = ArrowIpc.Write(batch.Schema, [batch]);
        Assert.Throws<ArrowValidationException>(() => ArrowIpc.Read(ipc[..(ipc.Length - 9)]));
        Assert.Throws<ArrowValidationException>(() => ArrowIpc.Read([.. ipc, 1, 2, 3, 4]));
        var back = new RecordBatchConverter().ConvertFromSurrogate(new RecordBatchSurrogate { Ipc = new PinnedIpcBytes(ipc) });
        Assert.Equal(2, back.Length);
        back.Dispose();
    }

    [Fact]
    public async Task QueryBatchesIpc_refuses_a_hostile_payload_from_bytes_and_from_a_stream()
    {
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => QueryBatchesIpc.FromBytesAsync(Hostile));
        Assert.Contains("nests deeper", e.Message);
        await using var stream = new BufferedStream(new MemoryStream(Hostile));
        Assert.Contains("nests deeper", (await Assert.ThrowsAsync<InvalidDataException>(() => QueryBatchesIpc.ReadAsync(stream))).Message);
    }
}
