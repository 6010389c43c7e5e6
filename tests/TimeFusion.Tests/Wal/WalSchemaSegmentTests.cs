using System.Buffers.Binary;
using Apache.Arrow;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

/// <summary>
/// Schema sharing: each segment carries a schema once (inline in its first entry using it) and refers to it afterwards;
/// every segment stays readable on its own, and readers get complete Arrow IPC streams back.
/// </summary>
public sealed class WalSchemaSegmentTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-schema", OtelLogsAndSpans.TableName);

    public void Dispose() => _dir.Dispose();

    private LocalWalStorage Storage => new(_dir.Path);

    private static RecordBatch Otel(int rows, int seed) =>
        BatchValidator.Validate(EngineTestKit.OtelRows(rows, $"s{seed}"), OtelLogsAndSpans.Schema, Id.Project, new IngestOptions()).Batch;

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log, long after = 0)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(after)) list.Add(e);
        return list;
    }

    /// <summary>The payload of the first entry of a segment file.</summary>
    internal static byte[] FirstPayload(string segment)
    {
        var bytes = File.ReadAllBytes(segment);
        var (length, _) = WalEntryFraming.ReadHeader(bytes);
        return WalEnvelope.Decode(bytes.AsMemory(WalEntryFraming.HeaderBytes, (int)length)).Payload.ToArray();
    }

    internal static bool IsInlineForm(byte[] payload) => payload.Length > 4 && payload[0] == 0xFE && payload[1] == 1 && payload[3] == 0xFE;

    private static long FirstLsn(string segment) => long.Parse(Path.GetFileNameWithoutExtension(segment));

    private static void AssertSame(RecordBatch expected, WalEntry entry)
    {
        Assert.Equal(WalOperation.Insert, entry.Operation);
        // Readers get back a stream that decodes to the full-width batch appended (projected or not).
        using var decoded = WalPayloads.DecodeInsert(entry.Payload);
        Assert.Equal(WalTestData.Render(expected), WalTestData.Render(decoded));
    }

    [Fact]
    public async Task Many_small_batches_round_trip_across_segment_rotations_from_any_start_and_after_truncation()
    {
        var options = new WalOptions { SegmentSizeBytes = 12 * 1024 };
        var written = new Dictionary<long, RecordBatch?>();
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage, options))
        {
            for (var i = 0; i < 80; i++)
            {
                // Two schemas interleaved, and DML entries between them.
                var batch = i % 9 == 4 ? WalTestData.ComplexBatch(3, i) : Otel(1 + i % 5, i);
                written[await log.AppendInsertAsync(batch)] = batch;
                if (i % 13 == 7) written[await log.AppendDmlAsync(WalOperation.Delete, new DmlRecord($"id = 's{i}'", []))] = null;
            }
        }
        var segments = WalFiles.Segments(_dir.Path, Id);
        Assert.True(segments.Length >= 5, $"only {segments.Length} segments");
        // A segment may start with a DML entry: its first insert carries the schema.
        foreach (var segment in segments)
            Assert.True(IsInlineForm(WalFiles.Payloads(segment).First(p => WalInsertForms.HasMarker(p.Payload)).Payload), $"{segment}'s first insert does not carry its schema");

        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage, options);
        async Task Check(long after)
        {
            var read = await ReadAll(reopened, after);
            Assert.Equal(written.Keys.Where(l => l > after).Order(), read.Select(e => e.Lsn));
            foreach (var e in read)
            {
                if (written[e.Lsn] is { } batch) AssertSame(batch, e);
                else Assert.Equal(WalOperation.Delete, e.Operation);
            }
        }
        await Check(0);
        // In the middle of a later segment: the entries skipped before it carried the schema the rest refers to.
        var third = FirstLsn(segments[2]);
        var fourth = FirstLsn(segments[3]);
        Assert.True(fourth - third >= 3, "the third segment is too short to start in its middle");
        await Check(third + 1);
        await Check(fourth - 1);

        // Appending after reopen re-inlines (the writer starts knowing no schema) and still reads back.
        var last = written.Keys.Max();
        for (var i = 0; i < 3; i++) written[await reopened.AppendInsertAsync(Otel(2, 100 + i))] = null;
        var appended = await ReadAll(reopened, last);
        Assert.Equal(3, appended.Count);
        foreach (var e in appended) Assert.Equal(2, WalPayloads.DecodeInsert(e.Payload).Length);

        // Truncating the first segments leaves segments that replay on their own.
        await reopened.TruncateAsync(FirstLsn(segments[2]) - 1);
        Assert.Equal(third, FirstLsn(WalFiles.Segments(_dir.Path, Id)[0]));
        var afterTruncate = await ReadAll(reopened, 0);
        Assert.Equal(third, afterTruncate[0].Lsn);
        Assert.Equal(written.Keys.Where(l => l >= third).Order(), afterTruncate.Select(e => e.Lsn));
        foreach (var e in afterTruncate)
        {
            if (written[e.Lsn] is { } batch) AssertSame(batch, e);
        }
    }

    [Fact]
    public async Task A_reference_to_a_schema_the_segment_does_not_hold_is_refused_as_damage()
    {
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            await log.AppendInsertAsync(Otel(1, 1));
            await log.AppendInsertAsync(Otel(1, 2));
        }
        var segment = WalFiles.Segments(_dir.Path, Id).Single();
        // A CRC-valid entry referring to a schema no entry of the segment carries.
        var reference = new byte[4 + 16 + 40];
        reference[0] = 0xFE;
        reference[1] = 2;
        reference[3] = 0xFE;
        reference[4] = 0x42;
        WalFiles.Append(segment, WalFiles.Frame(WalFiles.GoodEnvelope(3, Id, reference)));
        await using var log2 = await WriteAheadLog.OpenAsync(Id, Storage);
        var e = await Assert.ThrowsAsync<WalFormatException>(() => ReadAll(log2));
        Assert.Contains("no earlier entry of the segment carries", e.Message);
        // Entries before it are readable on their own.
        var entries = new List<WalEntry>();
        await Assert.ThrowsAsync<WalFormatException>(async () => { await foreach (var x in log2.ReadAsync(0)) entries.Add(x); });
        Assert.Equal([1L, 2L], entries.Select(x => x.Lsn));
    }

    [Fact]
    public async Task A_damaged_inline_entry_makes_the_references_after_it_damage_not_a_crash()
    {
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            for (var i = 0; i < 3; i++) await log.AppendInsertAsync(Otel(1, i));
        }
        var segment = WalFiles.Segments(_dir.Path, Id).Single();
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[200] ^= 0x5A; // inside the first entry's inline schema: its CRC fails
        await File.WriteAllBytesAsync(segment, bytes);
        await using var log2 = await WriteAheadLog.OpenAsync(Id, Storage, new WalOptions { MaxCorruptEntries = 1 });
        Assert.Single(log2.RecoveryStats.CorruptEntries);
        await Assert.ThrowsAsync<WalFormatException>(() => ReadAll(log2));
    }

    public static TheoryData<string, byte[]> HostileForms()
    {
        byte[] Form(byte form, byte flags, int extra, Action<byte[]>? patch = null)
        {
            var p = new byte[4 + 16 + extra];
            p[0] = 0xFE;
            p[1] = form;
            p[2] = flags;
            p[3] = 0xFE;
            patch?.Invoke(p);
            return p;
        }
        return new()
        {
            { "unknown form", Form(7, 0, 8) },
            { "unknown flag", Form(2, 0x80, 8) },
            { "short header", Form(1, 0, 2) },
            { "schema length past the end", Form(1, 0, 8, p => BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(20), 0xFFFFFFF0)) },
            { "schema not matching its id", Form(1, 0, 12, p => BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(20), 8)) },
        };
    }

    [Theory]
    [MemberData(nameof(HostileForms))]
    public async Task Hostile_schema_forms_are_format_errors(string what, byte[] payload)
    {
        _ = what;
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            await log.AppendInsertAsync(Otel(1, 1));
        }
        WalFiles.Append(WalFiles.Segments(_dir.Path, Id).Single(), WalFiles.Frame(WalFiles.GoodEnvelope(2, Id, payload)));
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage);
        await Assert.ThrowsAsync<WalFormatException>(() => ReadAll(reopened));
    }

    [Fact]
    public async Task A_compressed_body_declaring_more_than_the_cap_is_refused_before_allocating()
    {
        byte[] schemaId;
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            await log.AppendInsertAsync(Otel(1, 1));
        }
        var segment = WalFiles.Segments(_dir.Path, Id).Single();
        schemaId = FirstPayload(segment)[4..20];
        var payload = new byte[4 + 16 + 4 + 10];
        payload[0] = 0xFE;
        payload[1] = 2;
        payload[2] = 1;
        payload[3] = 0xFE;
        schemaId.CopyTo(payload, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(20), int.MaxValue);
        WalFiles.Append(segment, WalFiles.Frame(WalFiles.GoodEnvelope(2, Id, payload)));
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage);
        var e = await Assert.ThrowsAsync<WalFormatException>(() => ReadAll(reopened));
        Assert.Contains("declares", e.Message);
    }

    [Fact]
    public async Task An_insert_written_in_the_old_format_still_replays_unchanged()
    {
        var batch = Otel(3, 1);
        var old = WalPayloads.EncodeInsert(batch); // today's encoder: a complete IPC stream per entry
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            await log.AppendAsync(WalOperation.Insert, old);
            await log.AppendInsertAsync(batch);
            await log.AppendAsync(WalOperation.Insert, old);
        }
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage);
        var read = await ReadAll(reopened);
        Assert.Equal(3, read.Count);
        Assert.Equal(old, read[0].Payload.ToArray());
        Assert.Equal(old, read[2].Payload.ToArray());
        foreach (var e in read) AssertSame(batch, e);
    }

    [Fact]
    public async Task A_raw_insert_payload_with_the_form_marker_is_refused()
    {
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage);
        await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[] { 0xFE, 2, 0, 0xFE, 1, 2, 3 }));
        Assert.Equal(1, await log.AppendAsync(WalOperation.Delete, new byte[] { 0xFE, 2, 0, 0xFE }));
    }
}
