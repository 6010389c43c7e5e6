using MessagePack;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

public sealed class WalRecoveryTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-r", "events");

    public void Dispose() => _dir.Dispose();

    private LocalWalStorage Storage => new(_dir.Path);

    private static byte[] Payload(int i) => Enumerable.Range(0, 50 + i).Select(b => (byte)(b ^ i)).ToArray();

    /// <summary>Writes n entries and returns the byte offset where each entry's frame starts (plus the end).</summary>
    private async Task<List<long>> WriteEntries(int n, WalOptions? options = null)
    {
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage, options))
        {
            for (var i = 1; i <= n; i++) await log.AppendAsync(WalOperation.Insert, Payload(i));
        }
        // From the frames, not the file's length while open: a Direct-mode segment is zero-filled ahead of its entries.
        return WalFiles.FrameEnds(WalFiles.Segments(_dir.Path, Id).Single());
    }

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(0)) list.Add(e);
        return list;
    }

    private string Segment => WalFiles.Segments(_dir.Path, Id).Single();

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(30)]
    public async Task A_torn_tail_is_cut_and_new_appends_follow_the_last_good_entry(int keepBytesOfLastFrame)
    {
        var offsets = await WriteEntries(5);
        // Tear entry 5: keep only its first bytes.
        using (var f = new FileStream(Segment, FileMode.Open)) f.SetLength(offsets[4] + keepBytesOfLastFrame);

        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            var torn = Assert.IsType<WalDamage>(log.RecoveryStats.TornTail);
            Assert.Equal(offsets[4], torn.Position);
            Assert.Equal(keepBytesOfLastFrame, torn.Length);
            Assert.Empty(log.RecoveryStats.CorruptEntries);
            Assert.Equal(4, log.LastLsn);
            Assert.Equal(offsets[4], new FileInfo(Segment).Length);
            Assert.Equal(5, await log.AppendAsync(WalOperation.Insert, Payload(55)));
        }
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage);
        Assert.Null(reopened.RecoveryStats.TornTail);
        var entries = await ReadAll(reopened);
        Assert.Equal([1L, 2, 3, 4, 5], entries.Select(e => e.Lsn));
        Assert.Equal(Payload(55), entries[4].Payload.ToArray());
    }

    [Fact]
    public async Task Zero_filled_tail_after_a_crash_is_the_clean_end_and_is_cut()
    {
        var offsets = await WriteEntries(3);
        WalFiles.Append(Segment, new byte[4096]);
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage);
        // Zeros where a frame would start, up to the end: a preallocated segment's unused blocks, not an interrupted write.
        Assert.Null(log.RecoveryStats.TornTail);
        Assert.Empty(log.RecoveryStats.CorruptEntries);
        Assert.Equal(3, log.LastLsn);
        Assert.Equal(offsets[3], new FileInfo(Segment).Length);
    }

    [Theory]
    [InlineData(20)] // inside the payload
    [InlineData(0)] // inside the length field
    [InlineData(5)] // inside the CRC field
    [InlineData(9)] // inside the envelope header
    public async Task A_flipped_byte_in_the_middle_fails_a_strict_open_and_names_the_position(int offsetInFrame)
    {
        var offsets = await WriteEntries(10);
        var bytes = await File.ReadAllBytesAsync(Segment);
        bytes[offsets[4] + offsetInFrame] ^= 0x5A;
        await File.WriteAllBytesAsync(Segment, bytes);

        var e = await Assert.ThrowsAsync<WalCorruptException>(() => WriteAheadLog.OpenAsync(Id, Storage, Strict));
        Assert.Equal(offsets[4], e.Position);
        Assert.Equal(Path.GetFileName(Segment), e.Segment);
        Assert.Contains($"byte {offsets[4]}", e.Message);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Segment)); // a failed open changes nothing

        await using var log = await WriteAheadLog.OpenAsync(Id, Storage, new WalOptions { MaxCorruptEntries = 1 });
        var damage = Assert.Single(log.RecoveryStats.CorruptEntries);
        Assert.Equal(offsets[4], damage.Position);
        Assert.Equal(offsets[5] - offsets[4], damage.Length);
        Assert.Null(log.RecoveryStats.TornTail);
        var entries = await ReadAll(log);
        Assert.Equal([1L, 2, 3, 4, 6, 7, 8, 9, 10], entries.Select(x => x.Lsn));
        Assert.All(entries, x => Assert.Equal(Payload((int)x.Lsn), x.Payload.ToArray()));
        Assert.Equal(10, log.LastLsn);
        Assert.Equal(11, await log.AppendAsync(WalOperation.Insert, Payload(11)));
    }

    private static readonly WalOptions Strict = new() { CorruptionPolicy = WalCorruptionPolicy.Strict };

    [Fact]
    public async Task Damage_is_quarantined_by_default_and_the_log_keeps_serving_and_accepting()
    {
        var offsets = await WriteEntries(10);
        var bytes = await File.ReadAllBytesAsync(Segment);
        for (var i = 0; i < 16; i++) bytes[offsets[4] + 20 + i] ^= 0xFF;
        await File.WriteAllBytesAsync(Segment, bytes);
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage);
        var damage = Assert.Single(log.RecoveryStats.CorruptEntries);
        var file = Assert.Single(log.RecoveryStats.QuarantineFiles);
        var copy = await File.ReadAllBytesAsync(Path.Combine(Path.GetDirectoryName(Segment)!, file));
        Assert.Equal(bytes.AsSpan((int)damage.Position, (int)damage.Length).ToArray(), copy);
        Assert.Equal([1L, 2, 3, 4, 6, 7, 8, 9, 10], (await ReadAll(log)).Select(x => x.Lsn));
        Assert.Equal(11, await log.AppendAsync(WalOperation.Insert, Payload(11)));
    }

    [Fact]
    public async Task Damage_beyond_the_threshold_fails_at_the_first_region_over_it()
    {
        var offsets = await WriteEntries(10);
        var bytes = await File.ReadAllBytesAsync(Segment);
        bytes[offsets[2] + 30] ^= 1;
        bytes[offsets[6] + 30] ^= 1;
        await File.WriteAllBytesAsync(Segment, bytes);
        var e = await Assert.ThrowsAsync<WalCorruptException>(() => WriteAheadLog.OpenAsync(Id, Storage, new WalOptions { CorruptionPolicy = WalCorruptionPolicy.Strict, MaxCorruptEntries = 1 }));
        Assert.Equal(offsets[6], e.Position);
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage, new WalOptions { MaxCorruptEntries = 2 });
        Assert.Equal([offsets[2], offsets[6]], log.RecoveryStats.CorruptEntries.Select(d => d.Position));
        Assert.Equal(8, (await ReadAll(log)).Count);
    }

    [Fact]
    public async Task An_absurd_length_in_the_middle_is_damage_with_its_position_and_the_rest_is_found()
    {
        var offsets = await WriteEntries(6);
        var bytes = await File.ReadAllBytesAsync(Segment);
        BitConverter.TryWriteBytes(bytes.AsSpan((int)offsets[2]), 0xFFFFFFF0u);
        await File.WriteAllBytesAsync(Segment, bytes);
        var e = await Assert.ThrowsAsync<WalCorruptException>(() => WriteAheadLog.OpenAsync(Id, Storage, Strict));
        Assert.Equal(offsets[2], e.Position);
        Assert.Contains("exceeds MaxEntryBytes", e.Message);
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage, new WalOptions { MaxCorruptEntries = 1 });
        Assert.Equal([1L, 2, 4, 5, 6], (await ReadAll(log)).Select(x => x.Lsn));
    }

    [Fact]
    public async Task A_crc_valid_entry_of_an_unknown_format_version_is_refused()
    {
        await WriteEntries(2);
        WalFiles.Append(Segment, WalFiles.Frame(WalFiles.GoodEnvelope(3, Id, [1, 2, 3], version: 2)));
        var e = await Assert.ThrowsAsync<WalFormatException>(() => WriteAheadLog.OpenAsync(Id, Storage, new WalOptions { MaxCorruptEntries = 100 }));
        Assert.Contains("unsupported WAL format version 2", e.Message);
    }

    public static TheoryData<string, byte[]> HostileEnvelopes()
    {
        var id = Id;
        return new TheoryData<string, byte[]>
        {
            { "lsn", WalFiles.Envelope((ref MessagePackWriter w) => { w.WriteArrayHeader(6); w.Write(1); w.Write("three"); w.Write((byte)1); w.Write(id.Project); w.Write(id.Table); w.Write(new byte[] { 1 }); }) },
            { "payload", WalFiles.Envelope((ref MessagePackWriter w) => { w.WriteArrayHeader(6); w.Write(1); w.Write(3L); w.Write((byte)1); w.Write(id.Project); w.Write(id.Table); w.Write("not binary"); }) },
            { "fields", WalFiles.Envelope((ref MessagePackWriter w) => { w.WriteArrayHeader(5); w.Write(1); w.Write(3L); w.Write((byte)1); w.Write(id.Project); w.Write(id.Table); }) },
            { "operation", WalFiles.Envelope((ref MessagePackWriter w) => { w.WriteArrayHeader(6); w.Write(1); w.Write(3L); w.Write((byte)9); w.Write(id.Project); w.Write(id.Table); w.Write(new byte[] { 1 }); }) },
            { "envelope", WalFiles.Envelope((ref MessagePackWriter w) => { w.WriteMapHeader(1); w.Write(1); w.Write(2); w.Write(new byte[20]); }) },
            { "after", WalFiles.GoodEnvelope(3, id, [1, 2]).Concat(new byte[] { 0xC0 }).ToArray() },
            { "project", WalFiles.Envelope((ref MessagePackWriter w) => { w.WriteArrayHeader(6); w.Write(1); w.Write(3L); w.Write((byte)1); w.WriteNil(); w.Write(id.Table); w.Write(new byte[] { 1 }); }) },
            { "malformed WAL envelope", WalFiles.GoodEnvelope(3, id, [1, 2])[..^1] }, // cut inside the payload: the bin header claims more than there is
        };
    }

    [Theory]
    [MemberData(nameof(HostileEnvelopes))]
    public async Task A_crc_valid_envelope_with_wrong_types_or_fields_is_refused_with_a_clear_message(string expected, byte[] envelope)
    {
        await WriteEntries(2);
        WalFiles.Append(Segment, WalFiles.Frame(envelope));
        var e = await Assert.ThrowsAsync<WalFormatException>(() => WriteAheadLog.OpenAsync(Id, Storage, new WalOptions { MaxCorruptEntries = 100 }));
        Assert.True(e.Message.Contains(expected) && e.Message.Contains("segment"), e.Message);
    }

    [Fact]
    public async Task A_crc_valid_entry_out_of_lsn_order_is_corruption()
    {
        await WriteEntries(3);
        WalFiles.Append(Segment, WalFiles.Frame(WalFiles.GoodEnvelope(2, Id, [7])));
        var e = await Assert.ThrowsAsync<WalCorruptException>(() => WriteAheadLog.OpenAsync(Id, Storage, new WalOptions { MaxCorruptEntries = 100 }));
        Assert.Contains("out of order", e.Message);
    }

    [Fact]
    public async Task Damage_appearing_after_open_is_reported_by_replay()
    {
        var offsets = await WriteEntries(5);
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage);
        var bytes = await File.ReadAllBytesAsync(Segment);
        bytes[offsets[1] + 25] ^= 0xFF;
        await File.WriteAllBytesAsync(Segment, bytes);
        var e = await Assert.ThrowsAsync<WalCorruptException>(async () => await ReadAll(log));
        Assert.Equal(offsets[1], e.Position);
    }
}
