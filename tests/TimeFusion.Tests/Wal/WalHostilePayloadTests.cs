using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using CsCheck;
using MessagePack;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

public sealed class WalHostilePayloadTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RecordBatch Strings(params string[] values)
    {
        var schema = new Schema.Builder().Field(new Field("s", StringType.Default, false)).Build();
        return new RecordBatch(schema, [new StringArray.Builder().AppendRange(values).Build()], values.Length);
    }

    private static byte[] Patch(byte[] ipc, int[] find, int[] replace)
    {
        var needle = MemoryMarshal.AsBytes(find.AsSpan()).ToArray();
        var at = ipc.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, "pattern not found in the IPC bytes");
        var copy = ipc.ToArray();
        MemoryMarshal.AsBytes(replace.AsSpan()).CopyTo(copy.AsSpan(at));
        return copy;
    }

    /// <summary>A CRC-valid WAL entry whose payload is hostile: the log carries it; decoding it must refuse it.</summary>
    private async Task<ReadOnlyMemory<byte>> ThroughTheLog(byte[] payload)
    {
        var id = new TableId("p", "hostile");
        await using (var log = await WriteAheadLog.OpenAsync(id, new LocalWalStorage(_dir.Path)))
        {
            await log.AppendAsync(WalOperation.Insert, payload);
        }
        await using var reopened = await WriteAheadLog.OpenAsync(id, new LocalWalStorage(_dir.Path));
        WalEntry? last = null;
        await foreach (var e in reopened.ReadAsync(0)) last = e;
        return last!.Payload;
    }

    public static TheoryData<string, int[], int[]> BadStringOffsets() => new()
    {
        { "past the end", [0, 4, 8, 12], [0, 4, 8, 0x7FFF_FFF0] },
        { "decrease", [0, 4, 8, 12], [0, 9, 8, 12] },
        { "negative offset", [0, 4, 8, 12], [-4, 4, 8, 12] },
        { "inside a UTF-8 character", [0, 4, 8, 12], [0, 4, 10, 12] },
    };

    [Theory]
    [MemberData(nameof(BadStringOffsets))]
    public async Task Bad_utf8_offsets_in_a_crc_valid_entry_are_refused(string expected, int[] find, int[] replace)
    {
        var ipc = WalPayloads.EncodeInsert(Strings("aaaa", "bbbb", "c€"));
        using (var good = WalPayloads.DecodeInsert(ipc)) Assert.Equal("c€", ((StringArray)good.Column(0)).GetString(2));
        var payload = await ThroughTheLog(Patch(ipc, find, replace));
        var e = Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(payload));
        Assert.Contains(expected, e.Message);
        Assert.Contains("column 's'", e.Message);
    }

    [Fact]
    public async Task List_offsets_pointing_past_the_child_are_refused()
    {
        var list = new ListArray.Builder(Int32Type.Default);
        var values = (Int32Array.Builder)list.ValueBuilder;
        list.Append();
        values.Append(1).Append(2);
        list.Append();
        values.Append(3);
        var schema = new Schema.Builder().Field(new Field("l", new ListType(Int32Type.Default), true)).Build();
        var ipc = WalPayloads.EncodeInsert(new RecordBatch(schema, [list.Build()], 2));
        var payload = await ThroughTheLog(Patch(ipc, [0, 2, 3], [0, 2, 50]));
        var e = Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(payload));
        Assert.Contains("past the end (3)", e.Message);
    }

    [Fact]
    public void Every_tampered_length_or_count_is_refused_or_yields_a_consistent_batch()
    {
        // 1234 rows: the record batch length and the field nodes hold the int64 1234; tamper with each occurrence.
        var ints = new Int32Array.Builder();
        var strings = new StringArray.Builder();
        for (var i = 0; i < 1234; i++)
        {
            ints.Append(i);
            if (i % 3 == 0) strings.AppendNull();
            else strings.Append("v" + i);
        }
        var schema = new Schema.Builder().Field(new Field("i", Int32Type.Default, false)).Field(new Field("s", StringType.Default, true)).Build();
        var ipc = WalPayloads.EncodeInsert(new RecordBatch(schema, [ints.Build(), strings.Build()], 1234));
        var needles = new long[] { 1234, 412 }; // row count and null count
        var tampered = 0;
        foreach (var needle in needles)
        {
            var pattern = BitConverter.GetBytes(needle);
            for (var at = ipc.AsSpan().IndexOf(pattern); at >= 0;)
            {
                foreach (var replacement in new long[] { needle + 1, needle * 4, 0, -1, int.MaxValue, long.MaxValue })
                {
                    var copy = ipc.ToArray();
                    BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(at), replacement);
                    AssertRefusedOrConsistent(copy);
                    tampered++;
                }
                var next = ipc.AsSpan(at + 1).IndexOf(pattern);
                at = next < 0 ? -1 : at + 1 + next;
            }
        }
        Assert.True(tampered >= 18, $"only {tampered} variants");
    }

    [Fact]
    public void Truncated_and_extended_streams_are_refused()
    {
        var ipc = WalPayloads.EncodeInsert(WalTestData.ComplexBatch(20, 9));
        foreach (var cut in new[] { 1, 4, 8, 100, ipc.Length / 2, ipc.Length - 9, ipc.Length - 1 })
        {
            Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(ipc.AsMemory(0, cut)));
        }
        Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(ipc.Concat(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }).ToArray()));
        Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(System.Array.Empty<byte>()));
    }

    [Fact]
    public void A_stream_with_no_batch_or_two_batches_is_refused()
    {
        var batch = Strings("a");
        using var one = new MemoryStream();
        using (var writer = new ArrowStreamWriter(one, batch.Schema, leaveOpen: true)) writer.WriteStart();
        Assert.Contains("no record batch", Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(one.ToArray())).Message);
        using var two = new MemoryStream();
        using (var writer = new ArrowStreamWriter(two, batch.Schema, leaveOpen: true))
        {
            writer.WriteRecordBatch(batch);
            writer.WriteRecordBatch(batch);
            writer.WriteEnd();
        }
        Assert.Contains("more than one", Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(two.ToArray())).Message);
    }

    [Fact]
    public void A_schema_nested_deeper_than_the_limit_is_refused_before_the_reader_recurses()
    {
        Assert.Contains("nests deeper", Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(NestedLists(200))).Message);
        using var fine = WalPayloads.DecodeInsert(NestedLists(40));
        Assert.Equal(0, fine.Length);
    }

    internal static byte[] NestedLists(int depth)
    {
        IArrowType type = Int32Type.Default;
        var data = new ArrayData(type, 0, 0, 0, [ArrowBuffer.Empty, ArrowBuffer.Empty]);
        for (var i = 0; i < depth; i++)
        {
            type = new ListType(type);
            data = new ArrayData(type, 0, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(new byte[4])], [data]);
        }
        var schema = new Schema.Builder().Field(new Field("deep", type, true)).Build();
        return WalPayloads.EncodeInsert(new RecordBatch(schema, [ArrowArrayFactory.BuildArray(data)], 0));
    }

    [Fact]
    public void Random_mutations_of_a_complex_stream_never_escape_as_anything_but_WalFormatException()
    {
        var ipc = WalPayloads.EncodeInsert(WalTestData.ComplexBatch(40, 3));
        var mutation = Gen.Select(Gen.Int[0, ipc.Length - 1].Array[1, 6], Gen.Byte.Array[6], Gen.Bool);
        var decoded = 0;
        mutation.Sample((positions, values, grow) =>
        {
            var copy = ipc.ToArray();
            for (var i = 0; i < positions.Length; i++)
            {
                if (grow) copy[positions[i]] = (byte)(copy[positions[i]] + values[i]);
                else copy[positions[i]] ^= (byte)(values[i] | 1);
            }
            if (AssertRefusedOrConsistent(copy)) decoded++;
        }, iter: 2000, threads: 1);
        Assert.True(decoded < 2000);
    }

    /// <summary>
    /// A fixed sequence of mutations that held two which escaped as OutOfMemoryException (CI, session 12): the reader
    /// sized a list by a field-node count read past the metadata. The preflight now checks record batches too.
    /// </summary>
    [Fact]
    public void Mutated_record_batch_counts_and_extents_are_refused_before_the_reader_allocates_by_them()
    {
        var ipc = WalPayloads.EncodeInsert(WalTestData.ComplexBatch(40, 3));
        var random = new Random(1);
        for (var iteration = 0; iteration < 40_000; iteration++)
        {
            var copy = ipc.ToArray();
            var count = random.Next(1, 7);
            var grow = random.Next(2) == 0;
            for (var n = 0; n < count; n++)
            {
                var at = random.Next(copy.Length);
                var value = (byte)random.Next(256);
                if (grow) copy[at] = (byte)(copy[at] + value);
                else copy[at] ^= (byte)(value | 1);
            }
            try
            {
                using var batch = WalPayloads.DecodeInsert(copy);
            }
            catch (WalFormatException)
            {
                // Refused: what a damaged entry must get (anything else fails the test).
            }
        }
    }

    [Fact]
    public void Random_mutations_of_a_projected_insert_as_readers_hand_it_out_never_escape_as_anything_but_WalFormatException()
    {
        // A small batch with all-null columns, in the stream form readers hand consumers (full schema, mask, projected stream).
        var complex = WalTestData.ComplexBatch(12, 5);
        var kept = Enumerable.Range(0, complex.ColumnCount).Where(c => complex.Schema.GetFieldByIndex(c).DataType is not DictionaryType).ToList();
        var nullAt = kept.First(c => complex.Schema.GetFieldByIndex(c).DataType is StringType);
        var batch = new RecordBatch(new Schema(kept.Select(complex.Schema.GetFieldByIndex), null),
            kept.Select(c => c == nullAt ? NullColumns.Of(StringType.Default, 12) : complex.Column(c)), 12);
        var schema = WalInsertForms.SchemaOf(batch.Schema);
        var mask = WalColumnMask.Of(batch)!;
        using var body = WalInsertForms.EncodeBodyPooled(mask.ProjectBatch(batch, schema.Projection(mask)), schema.Projection(mask), default, 4096)!;
        var payload = WalProjectedInserts.Materialize(schema.Id, schema.Bytes, mask, body.Memory.Span, "segment", 0, out _);
        Assert.True(AssertRefusedOrConsistent(payload));
        using (var decoded = WalPayloads.DecodeInsert(payload))
        {
            Assert.Equal(WalTestData.Render(batch), WalTestData.Render(decoded));
        }
        // The stream form around a stream form (instead of an IPC stream) is refused, not unwrapped again.
        var streamStart = payload.Length - body.Memory.Length - ProjectedMessageLength(schema, mask);
        var nested = payload[..streamStart].Concat(payload).ToArray();
        var refused = Assert.Throws<WalFormatException>(() => WalPayloads.DecodeInsert(nested));
        Assert.DoesNotContain("projected insert has", refused.Message); // refused as a stream, not decoded and then found too wide
        var mutation = Gen.Select(Gen.Int[0, payload.Length - 1].Array[1, 6], Gen.Byte.Array[6], Gen.Bool);
        mutation.Sample((positions, values, grow) =>
        {
            var copy = payload.ToArray();
            for (var i = 0; i < positions.Length; i++)
            {
                if (grow) copy[positions[i]] = (byte)(copy[positions[i]] + values[i]);
                else copy[positions[i]] ^= (byte)(values[i] | 1);
            }
            AssertRefusedOrConsistent(copy);
        }, iter: 2000, threads: 1);
    }

    private static int ProjectedMessageLength(WalSchema schema, WalColumnMask mask) => WalInsertForms.EncodeSchema(schema.Projection(mask)).Length;

    /// <summary>Either a <see cref="WalFormatException"/>, or a batch every value of which can be read.</summary>
    private static bool AssertRefusedOrConsistent(byte[] payload)
    {
        RecordBatch batch;
        try
        {
            batch = WalPayloads.DecodeInsert(payload);
        }
        catch (WalFormatException)
        {
            return false;
        }
        using (batch)
        {
            foreach (var col in Enumerable.Range(0, batch.ColumnCount))
            {
                var array = batch.Column(col);
                for (var r = 0; r < batch.Length; r++) RenderAnything(array, r);
            }
        }
        return true;
    }

    /// <summary>Reads a value of any array type this test produces (the validator promised it is in bounds).</summary>
    private static void RenderAnything(IArrowArray array, int i)
    {
        if (array.IsNull(i)) return;
        switch (array)
        {
            case DictionaryArray d:
                var index = d.Indices is Int32Array ix ? ix.GetValue(i)!.Value : 0;
                RenderAnything(d.Dictionary, index);
                return;
            case ListArray l: // and MapArray
                for (var k = l.ValueOffsets[i]; k < l.ValueOffsets[i + 1]; k++) RenderAnything(l.Values, k);
                return;
            case StructArray s:
                foreach (var f in s.Fields) RenderAnything(f, i);
                return;
            case StringArray s:
                _ = s.GetString(i);
                return;
            case BooleanArray b:
                _ = b.GetValue(i);
                return;
            case Int32Array n:
                _ = n.GetValue(i);
                return;
            case Int64Array n:
                _ = n.GetValue(i);
                return;
            case DoubleArray n:
                _ = n.GetValue(i);
                return;
            case TimestampArray t:
                _ = t.GetValue(i);
                return;
            default:
                return;
        }
    }

    public static TheoryData<string, byte[]> HostileDml()
    {
        static byte[] Build(WalFiles.Write write) => WalFiles.Envelope(write);
        return new TheoryData<string, byte[]>
        {
            { "version 2", Build((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(2); w.Write("p"); w.WriteArrayHeader(0); }) },
            { "'predicate' is Integer", Build((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(1); w.Write(42); w.WriteArrayHeader(0); }) },
            { "malformed DML record", Build((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(1); w.Write("p"); w.WriteArrayHeader(1_000_000); }) },
            { "not a [column, expression] pair", Build((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(1); w.Write("p"); w.WriteArrayHeader(1); w.WriteArrayHeader(3); w.Write("a"); w.Write("b"); w.Write("c"); }) },
            { "expected 3", Build((ref MessagePackWriter w) => { w.WriteArrayHeader(2); w.Write(1); w.Write("p"); }) },
            { "'assignment expression' is Nil", Build((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(1); w.Write("p"); w.WriteArrayHeader(1); w.WriteArrayHeader(2); w.Write("a"); w.WriteNil(); }) },
            { "bytes after", Build((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(1); w.Write("p"); w.WriteArrayHeader(0); w.Write(7); }) },
            { "malformed DML record", new byte[] { 0x93, 0x01, 0xDB, 0xFF, 0xFF, 0xFF, 0x7F } },
        };
    }

    [Theory]
    [MemberData(nameof(HostileDml))]
    public void Hostile_dml_records_are_refused_with_a_clear_message(string expected, byte[] payload)
    {
        var e = Assert.Throws<WalFormatException>(() => WalPayloads.DecodeDml(payload));
        Assert.Contains(expected, e.Message);
    }
}
