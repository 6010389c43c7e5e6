using System.Buffers.Binary;
using System.IO.Compression;
using Apache.Arrow;
using Apache.Arrow.Types;
using CsCheck;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

/// <summary>
/// Projected insert bodies: a small batch leaves its all-null columns out of the WAL (a column mask in the form header)
/// and replay rebuilds them as nulls; the forms of older builds (full-width, Brotli-compressed, raw IPC) still replay.
/// </summary>
public sealed class WalProjectedBodyTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-mask", "t");
    private static readonly TableId OtelId = new("proj-mask", OtelLogsAndSpans.TableName);
    private int _next;

    public void Dispose() => _dir.Dispose();

    private string NewRoot() => Path.Combine(_dir.Path, (++_next).ToString());

    private static WalOptions Fast() => new() { SyncMode = WalSyncMode.Interval, SyncInterval = TimeSpan.FromMinutes(1) };

    private static RecordBatch Otel(int rows, int seed) =>
        BatchValidator.Validate(EngineTestKit.OtelRows(rows, $"m{seed}"), OtelLogsAndSpans.Schema, OtelId.Project, new IngestOptions()).Batch;

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(0)) list.Add(e);
        return list;
    }

    private static void AssertDecodesTo(RecordBatch expected, WalEntry entry)
    {
        using var decoded = WalPayloads.DecodeInsert(entry.Payload);
        Assert.Equal(WalTestData.Render(expected), WalTestData.Render(decoded));
    }

    private enum Fill
    {
        AllNull,
        SomeNull,
        NoNull,
    }

    private static readonly IArrowType[] Types =
    [
        Int64Type.Default, Int32Type.Default, Int16Type.Default, UInt8Type.Default, DoubleType.Default, FloatType.Default,
        BooleanType.Default, StringType.Default, BinaryType.Default, new TimestampType(TimeUnit.Microsecond, "UTC"), Date32Type.Default,
        new ListType(StringType.Default),
        // Types all-null columns are not rebuilt for: always carried.
        new StructType([new Field("code", Int32Type.Default, true), new Field("msg", StringType.Default, true)]),
        new MapType(StringType.Default, Int64Type.Default),
    ];

    /// <summary>A batch: a non-null id, then the given columns, each of a type of <see cref="Types"/> filled as asked.</summary>
    private static RecordBatch Batch(int rows, IReadOnlyList<(int Type, Fill Fill)> columns, int seed)
    {
        var random = new Random(seed);
        var ids = new Int64Array.Builder();
        for (var r = 0; r < rows; r++) ids.Append(seed * 100_000L + r);
        var fields = new List<Field> { new("id", Int64Type.Default, false) };
        var arrays = new List<IArrowArray> { ids.Build() };
        for (var c = 0; c < columns.Count; c++)
        {
            var (type, fill) = columns[c];
            fields.Add(new Field($"c{c}", Types[type], true));
            arrays.Add(Column(Types[type], rows, fill, random));
        }
        return new RecordBatch(new Schema(fields, null), arrays, rows);
    }

    private static IArrowArray Column(IArrowType type, int rows, Fill fill, Random random)
    {
        bool Null(int r) => fill == Fill.AllNull || (fill == Fill.SomeNull && (r == 0 || random.Next(3) == 0));
        IArrowArray Build<TBuilder>(TBuilder builder, Action<TBuilder> appendNull, Action<TBuilder> value, Func<TBuilder, IArrowArray> build)
        {
            for (var r = 0; r < rows; r++)
            {
                if (Null(r)) appendNull(builder);
                else value(builder);
            }
            return build(builder);
        }
        switch (type)
        {
            case Int64Type: return Build(new Int64Array.Builder(), b => b.AppendNull(), b => b.Append(random.NextInt64()), b => b.Build());
            case Int32Type: return Build(new Int32Array.Builder(), b => b.AppendNull(), b => b.Append(random.Next()), b => b.Build());
            case Int16Type: return Build(new Int16Array.Builder(), b => b.AppendNull(), b => b.Append((short)random.Next()), b => b.Build());
            case UInt8Type: return Build(new UInt8Array.Builder(), b => b.AppendNull(), b => b.Append((byte)random.Next()), b => b.Build());
            case DoubleType: return Build(new DoubleArray.Builder(), b => b.AppendNull(), b => b.Append(random.NextDouble()), b => b.Build());
            case FloatType: return Build(new FloatArray.Builder(), b => b.AppendNull(), b => b.Append(random.NextSingle()), b => b.Build());
            case BooleanType: return Build(new BooleanArray.Builder(), b => b.AppendNull(), b => b.Append(random.Next(2) == 0), b => b.Build());
            case StringType: return Build(new StringArray.Builder(), b => b.AppendNull(), b => b.Append($"v{random.Next(1000)}-ü€"), b => b.Build());
            case BinaryType:
                return Build(new BinaryArray.Builder(), b => b.AppendNull(), b => b.Append([(byte)random.Next(), 0, (byte)random.Next()]), b => b.Build());
            case TimestampType t:
                return Build(new TimestampArray.Builder(t), b => b.AppendNull(), b => b.Append(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000L + random.Next())),
                    b => b.Build());
            case Date32Type:
                return Build(new Date32Array.Builder(), b => b.AppendNull(), b => b.Append(new DateTime(2026, 1, 1).AddDays(random.Next(300))), b => b.Build());
            case MapType m:
            {
                var map = new MapArray.Builder(m);
                for (var r = 0; r < rows; r++)
                {
                    if (Null(r))
                    {
                        map.AppendNull();
                        continue;
                    }
                    map.Append();
                    ((StringArray.Builder)map.KeyBuilder).Append($"k{r}");
                    ((Int64Array.Builder)map.ValueBuilder).Append(r);
                }
                return map.Build();
            }
            case ListType:
            {
                var list = new ListArray.Builder(StringType.Default);
                for (var r = 0; r < rows; r++)
                {
                    if (Null(r))
                    {
                        list.AppendNull();
                        continue;
                    }
                    list.Append();
                    for (var k = random.Next(3); k > 0; k--) ((StringArray.Builder)list.ValueBuilder).Append($"t{k}");
                }
                return list.Build();
            }
            case StructType s:
            {
                var codes = new Int32Array.Builder();
                var messages = new StringArray.Builder();
                var validity = new ArrowBuffer.BitmapBuilder();
                var nulls = 0;
                for (var r = 0; r < rows; r++)
                {
                    var isNull = Null(r);
                    validity.Append(!isNull);
                    if (isNull) nulls++;
                    codes.Append(r);
                    messages.Append($"m{r}");
                }
                return new StructArray(s, rows, [codes.Build(), messages.Build()], validity.Build(), nulls);
            }
            default:
                throw new NotSupportedException(type.Name);
        }
    }

    /// <summary>Whether the batch should be projected: an all-null column of a type nulls are rebuilt for, and small.</summary>
    private static bool Projectable(RecordBatch batch) =>
        Enumerable.Range(0, batch.ColumnCount).Any(c => batch.Column(c).NullCount == batch.Length && NullColumns.Supports(batch.Column(c).Data.DataType))
        && ArrowSize.Of(batch) <= WalInsertForms.MaxProjectedBytes;

    [Fact]
    public async Task Any_mix_of_null_and_non_null_columns_replays_equal_through_the_wal_files()
    {
        var column = Gen.Select(Gen.Int[0, Types.Length - 1], Gen.Enum<Fill>());
        var rows = Gen.Frequency((3, Gen.Int[1, 30]), (1, Gen.Int[31, 3000]));
        var sample = Gen.Select(column.List[0, 24].Array[1, 3], rows, Gen.Int[0, 10_000]);
        var projected = 0;
        await sample.SampleAsync(async t =>
        {
            var (batchesColumns, rowCount, seed) = t;
            var root = NewRoot();
            var batches = batchesColumns.Select((columns, i) => Batch(rowCount, columns, seed + i)).ToList();
            await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Fast()))
            {
                foreach (var batch in batches) await log.AppendInsertAsync(batch);
            }
            // On disk: projected exactly when the batch has a droppable all-null column and is small; never compressed.
            var payloads = WalFiles.Payloads(WalFiles.Segments(root, Id).Single());
            for (var i = 0; i < batches.Count; i++)
            {
                var flags = payloads[i].Payload[2];
                Assert.Equal(Projectable(batches[i]) ? WalInsertForms.ProjectedFlag : 0, flags);
                if (flags != 0) projected++;
            }
            await using var reopened = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Fast());
            var read = await ReadAll(reopened);
            Assert.Equal(batches.Count, read.Count);
            for (var i = 0; i < batches.Count; i++) AssertDecodesTo(batches[i], read[i]);
        }, iter: 60, threads: 1);
        Assert.True(projected > 10, $"only {projected} projected entries");
    }

    [Fact]
    public void The_body_writer_writes_exactly_what_the_stream_writer_writes_after_the_schema()
    {
        foreach (var batch in new[] { Otel(1, 1), Otel(30, 2), Otel(500, 3), Batch(7, [(7, Fill.SomeNull), (11, Fill.AllNull), (12, Fill.NoNull)], 4) })
        {
            var schema = WalInsertForms.SchemaOf(batch.Schema);
            using var skipped = WalInsertForms.EncodeBodyPooled(batch, batch.Schema, schema.Bytes, 4096)!;
            using var direct = WalInsertForms.EncodeBodyPooled(batch, batch.Schema, default, 4096)!;
            Assert.Equal(skipped.Memory.ToArray(), direct.Memory.ToArray());
            // And the two together are the stream the IPC writer writes.
            Assert.Equal(WalPayloads.EncodeInsert(batch), schema.Bytes.Concat(direct.Memory.ToArray()).ToArray());
        }
    }

    /// <summary>The body as builds before session 11 wrote it: full width, Brotli (quality 1, window 18) when it shrinks by an eighth.</summary>
    private static (byte[] Body, int RawLength) LegacyBody(RecordBatch batch, WalSchema schema)
    {
        using var body = WalInsertForms.EncodeBodyPooled(batch, batch.Schema, schema.Bytes, 4096)!;
        var raw = body.Memory.Span;
        var target = new byte[BrotliEncoder.GetMaxCompressedLength(raw.Length)];
        Assert.True(BrotliEncoder.TryCompress(raw, target, out var written, 1, 18));
        Assert.True(written <= raw.Length - raw.Length / 8, "the legacy body would not have been compressed");
        return (target[..written], raw.Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(30)]
    public async Task Entries_in_the_forms_of_older_builds_still_replay(int rows)
    {
        var root = NewRoot();
        var batches = Enumerable.Range(0, 5).Select(i => Otel(rows, 10 * rows + i)).ToList();
        await using (var log = await WriteAheadLog.OpenAsync(OtelId, new LocalWalStorage(root)))
        {
            var schema = WalInsertForms.SchemaOf(batches[0].Schema);
            var (compressed, rawLength) = LegacyBody(batches[0], schema);
            await log.AppendInsertBodyAsync(schema, compressed, rawLength, null); // builds before session 11: compressed, inline schema
            using (var full = WalInsertForms.EncodeBodyPooled(batches[1], batches[1].Schema, schema.Bytes, 4096)!)
            {
                await log.AppendInsertBodyAsync(schema, full.Memory, 0, null); // full width, uncompressed, a reference
            }
            await log.AppendAsync(WalOperation.Insert, WalPayloads.EncodeInsert(batches[2])); // before schema sharing
            await log.AppendInsertAsync(batches[3]); // this build
            var (compressed4, rawLength4) = LegacyBody(batches[4], schema);
            await log.AppendInsertBodyAsync(schema, compressed4, rawLength4, null); // compressed, a reference after a projected entry
        }
        var payloads = WalFiles.Payloads(WalFiles.Segments(root, OtelId).Single());
        Assert.Equal(new byte[] { 1, 0, 0xFF, 2, 1 }, payloads.Select(p => WalInsertForms.HasMarker(p.Payload) ? p.Payload[2] : (byte)0xFF));
        await using var reopened = await WriteAheadLog.OpenAsync(OtelId, new LocalWalStorage(root));
        var read = await ReadAll(reopened);
        Assert.Equal(5, read.Count);
        for (var i = 0; i < 5; i++) AssertDecodesTo(batches[i], read[i]);
    }

    [Fact]
    public async Task A_flipped_byte_in_the_mask_is_caught_by_the_crc_and_handled_like_any_damage()
    {
        var root = NewRoot();
        var batches = Enumerable.Range(0, 3).Select(i => Otel(30, 50 + i)).ToList();
        await using (var log = await WriteAheadLog.OpenAsync(OtelId, new LocalWalStorage(root)))
        {
            foreach (var batch in batches) await log.AppendInsertAsync(batch);
        }
        var segment = WalFiles.Segments(root, OtelId).Single();
        var second = WalFiles.Payloads(segment)[1];
        Assert.Equal(WalInsertForms.ReferenceForm, second.Payload[1]);
        Assert.Equal(WalInsertForms.ProjectedFlag, second.Payload[2]);
        var bytes = await File.ReadAllBytesAsync(segment);
        // The mask follows the 20-byte reference header: flip a bit of its bitmap.
        bytes[second.Position + WalInsertForms.ReferenceHeaderBytes + 3] ^= 0x10;
        await File.WriteAllBytesAsync(segment, bytes);

        await using var reopened = await WriteAheadLog.OpenAsync(OtelId, new LocalWalStorage(root));
        Assert.Single(reopened.RecoveryStats.CorruptEntries);
        var read = await ReadAll(reopened);
        Assert.Equal([1L, 3L], read.Select(e => e.Lsn));
        AssertDecodesTo(batches[0], read[0]);
        AssertDecodesTo(batches[2], read[1]);
    }

    public static TheoryData<string, string> HostileMasks() => new()
    {
        { "both flags", "flags 3" },
        { "cut short", "cut short" },
        { "bits past the count", "past its" },
        { "count not the schema's", "describes" },
        { "leaves out a non-nullable column", "cannot be rebuilt" },
    };

    [Theory]
    [MemberData(nameof(HostileMasks))]
    public async Task A_crc_valid_entry_with_a_hostile_mask_is_a_format_error(string what, string expected)
    {
        var root = NewRoot();
        var batch = Otel(2, 1);
        await using (var log = await WriteAheadLog.OpenAsync(OtelId, new LocalWalStorage(root)))
        {
            await log.AppendInsertAsync(batch);
        }
        var segment = WalFiles.Segments(root, OtelId).Single();
        var first = WalFiles.Payloads(segment)[0].Payload;
        var fields = batch.Schema.FieldsList;
        var columns = fields.Count;
        var lastByte = (byte)(columns % 8 == 0 ? 0xFF : (1 << (columns % 8)) - 1);
        var mask = new byte[2 + (columns + 7) / 8];
        BinaryPrimitives.WriteUInt16LittleEndian(mask, (ushort)columns);
        mask.AsSpan(2).Fill(0xFF);
        mask[^1] = lastByte;
        var flags = WalInsertForms.ProjectedFlag;
        var trailing = 16;
        switch (what)
        {
            case "both flags":
                flags |= WalInsertForms.CompressedFlag;
                break;
            case "cut short":
                mask = mask[..3];
                trailing = 0;
                break;
            case "bits past the count":
                if (columns % 8 == 0) BinaryPrimitives.WriteUInt16LittleEndian(mask, (ushort)(columns - 1));
                else mask[^1] = 0xFF;
                break;
            case "count not the schema's":
                BinaryPrimitives.WriteUInt16LittleEndian(mask, (ushort)(columns - 8));
                mask = mask[..^1];
                mask[^1] = lastByte;
                break;
            case "leaves out a non-nullable column":
                var id = fields.ToList().FindIndex(f => !f.IsNullable);
                Assert.True(id >= 0);
                mask[2 + id / 8] &= (byte)~(1 << (id % 8));
                break;
        }
        var payload = new byte[WalInsertForms.ReferenceHeaderBytes + mask.Length + trailing];
        payload[0] = WalInsertForms.Marker;
        payload[1] = WalInsertForms.ReferenceForm;
        payload[2] = flags;
        payload[3] = WalInsertForms.Marker;
        first.AsSpan(4, 16).CopyTo(payload.AsSpan(4));
        mask.CopyTo(payload, WalInsertForms.ReferenceHeaderBytes);
        WalFiles.Append(segment, WalFiles.Frame(WalFiles.GoodEnvelope(2, OtelId, payload)));

        await using var reopened = await WriteAheadLog.OpenAsync(OtelId, new LocalWalStorage(root));
        var e = await Assert.ThrowsAsync<WalFormatException>(() => ReadAll(reopened));
        Assert.Contains(expected, e.Message);
    }
}
