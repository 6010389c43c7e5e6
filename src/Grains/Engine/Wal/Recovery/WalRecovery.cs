using System.Diagnostics;

namespace TimeFusion.Wal;

/// <summary>A segment as recovery left it.</summary>
/// <param name="Name">File or blob name.</param>
/// <param name="FirstLsn">The LSN in its name.</param>
/// <param name="Length">Readable bytes (for the last segment: up to the end of its last good entry).</param>
internal sealed record RecoveredSegment(string Name, long FirstLsn, long Length);

/// <summary>What <see cref="WalRecovery.RecoverAsync"/> found.</summary>
internal sealed record WalRecoveryResult(
    IReadOnlyList<RecoveredSegment> Segments, long LastLsn, WalRecoveryStats Stats, IReadOnlySet<(string Segment, long Position)> KnownDamage);

/// <summary>
/// Scans every segment of a log when it opens: checks each frame's CRC, each envelope's format, names and LSN order;
/// marks an incomplete last write as a torn tail (to be cut); counts damage elsewhere against
/// <see cref="WalOptions.MaxCorruptEntries"/>; and finds the highest LSN ever assigned.
/// </summary>
internal static class WalRecovery
{
    public static async Task<WalRecoveryResult> RecoverAsync(
        IWalDirectory directory, IReadOnlyList<WalFileInfo> files, WalNames names, WalOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var segments = new List<(string Name, long FirstLsn, long Length)>();
        foreach (var f in files)
        {
            if (WalSegmentName.TryParse(f.Name, out var first)) segments.Add((f.Name, first, f.Length));
        }
        segments.Sort((a, b) => a.FirstLsn.CompareTo(b.FirstLsn));
        // An empty segment before the newest holds no entry and claims no LSN range: a writer fenced (or killed) between
        // creating a segment and finding it no longer owns the log leaves one behind (AzureWalDirectory.CreateSegmentAsync).
        if (segments.Count > 1)
        {
            var newest = segments[^1].Name;
            segments.RemoveAll(s => s.Length == 0 && s.Name != newest);
        }

        var recovered = new List<RecoveredSegment>(segments.Count);
        var damage = new List<WalDamage>();
        var known = new HashSet<(string, long)>();
        WalDamage? torn = null;
        var quarantined = new List<string>();
        long lastLsn = 0, firstLsn = 0, entries = 0, scanned = 0;

        for (var i = 0; i < segments.Count; i++)
        {
            var (name, segmentFirst, length) = segments[i];
            var isLast = i == segments.Count - 1;
            var nextFirst = isLast ? long.MaxValue : segments[i + 1].FirstLsn;
            long validLength = 0, segmentLast = 0;
            await using var reader = await directory.OpenReadAsync(name, cancellationToken);
            await using var scanner = new WalSegmentScanner(reader, name, length, options.MaxEntryBytes, options.ReadChunkBytes);
            while (true)
            {
                var ev = await scanner.NextAsync(cancellationToken);
                if (ev.Kind == ScanEventKind.End) break;
                if (ev.Kind == ScanEventKind.Frame)
                {
                    var header = DecodeAt(ev, name);
                    names.Check(header, name, ev.Position);
                    CheckOrder(header.Lsn, lastLsn, segmentFirst, nextFirst, name, ev.Position);
                    lastLsn = segmentLast = header.Lsn;
                    if (firstLsn == 0) firstLsn = header.Lsn;
                    entries++;
                    validLength = ev.Position + ev.Length;
                    continue;
                }
                var region = new WalDamage(name, ev.Position, ev.Length, ev.Reason ?? "damaged");
                if (isLast && ev.ReachesEnd)
                {
                    // Nothing good follows in the last segment: an interrupted write, cut off on open.
                    torn = region;
                    continue;
                }
                await DamagedAsync(region, ev.ReachesEnd);
            }
            // Zeros after the last entry of a segment before the last are its clean end only if no entry is missing: the
            // next segment starts right after its last LSN (a roll made this one durable first). Otherwise entries were lost.
            var expectedNext = (segmentLast == 0 ? segmentFirst : segmentLast + 1);
            if (!isLast && scanner.DataEnd < length && expectedNext != nextFirst)
            {
                await DamagedAsync(new WalDamage(name, scanner.DataEnd, length - scanner.DataEnd,
                    $"zeros after LSN {expectedNext - 1}, but the next segment starts at LSN {nextFirst}"), true);
            }

            async Task DamagedAsync(WalDamage region, bool reachesEnd)
            {
                damage.Add(region);
                known.Add((region.Segment, region.Position));
                if (options.CorruptionPolicy == WalCorruptionPolicy.Strict && damage.Count > options.MaxCorruptEntries)
                {
                    throw new WalCorruptException(
                        $"WAL '{directory.Describe}': damaged entry at byte {region.Position} of segment '{region.Segment}' ({region.Reason}; " +
                        $"{region.Length} bytes up to {(reachesEnd ? "the end of the segment" : "the next good entry")}); " +
                        $"{damage.Count} damaged region(s) found, MaxCorruptEntries is {options.MaxCorruptEntries}",
                        region.Segment, region.Position);
                }
                quarantined.Add(await QuarantineAsync(directory, reader, region, cancellationToken));
            }
            scanned += length;
            // A preallocated segment's zeros after its last entry are not part of it: readers and truncation see its entries' end.
            recovered.Add(new RecoveredSegment(name, segmentFirst, isLast ? validLength : scanner.DataEnd));
        }

        if (segments.Count > 0) lastLsn = Math.Max(lastLsn, segments[^1].FirstLsn - 1);
        var stats = new WalRecoveryStats
        {
            Segments = segments.Count,
            Entries = entries,
            FirstLsn = firstLsn,
            LastLsn = lastLsn,
            BytesScanned = scanned,
            TornTail = torn,
            CorruptEntries = damage,
            QuarantineFiles = quarantined,
            Elapsed = clock.Elapsed,
        };
        return new WalRecoveryResult(recovered, lastLsn, stats, known);
    }

    /// <summary>The largest damaged region copied aside whole; a longer one keeps its first bytes (the segment still holds all).</summary>
    private const int MaxQuarantineBytes = 64 << 20;

    /// <summary>
    /// Copies a damaged region's bytes aside into <c>quarantine.&lt;segment&gt;.&lt;position&gt;.damaged</c> in the log's folder
    /// (created once: a reopen finding the same damage leaves the copy as it is). Returns the file name.
    /// </summary>
    private static async Task<string> QuarantineAsync(IWalDirectory directory, IWalSegmentReader reader, WalDamage region, CancellationToken cancellationToken)
    {
        var file = QuarantineFileName(region.Segment, region.Position);
        var bytes = new byte[(int)Math.Min(region.Length, MaxQuarantineBytes)];
        if (bytes.Length > 0) await reader.ReadExactlyAsync(region.Position, bytes, cancellationToken);
        await directory.CreateFileAsync(file, bytes, cancellationToken);
        return file;
    }

    /// <summary>The quarantine file of the damage at <paramref name="position"/> of <paramref name="segment"/>.</summary>
    internal static string QuarantineFileName(string segment, long position) => $"quarantine.{segment}.{position}.damaged";

    /// <summary>Decodes a CRC-valid envelope, naming its position when the content is not ours.</summary>
    internal static WalEnvelopeHeader DecodeAt(in ScanEvent ev, string segment)
    {
        try
        {
            return WalEnvelope.Decode(ev.Envelope);
        }
        catch (WalFormatException e)
        {
            throw new WalFormatException($"WAL entry at byte {ev.Position} of segment '{segment}': {e.Message}", e);
        }
    }

    /// <summary>LSNs strictly increase and stay inside the range the segment names give.</summary>
    internal static void CheckOrder(long lsn, long previous, long segmentFirst, long nextSegmentFirst, string segment, long position)
    {
        if (lsn <= previous || lsn < segmentFirst || lsn >= nextSegmentFirst)
        {
            throw new WalCorruptException(
                $"WAL entry at byte {position} of segment '{segment}' has LSN {lsn}, out of order (previous {previous}, " +
                $"segment range [{segmentFirst}, {(nextSegmentFirst == long.MaxValue ? "∞" : nextSegmentFirst.ToString())}))",
                segment, position);
        }
    }
}
