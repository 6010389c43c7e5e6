using System.Buffers;

namespace TimeFusion.Wal;

/// <summary>What <see cref="WalSegmentScanner.NextAsync"/> found.</summary>
internal enum ScanEventKind
{
    /// <summary>The end of the segment, or the clean end of its entries before a zero tail (<see cref="ScanEvent.Position"/>).</summary>
    End,

    /// <summary>A frame whose CRC matches.</summary>
    Frame,

    /// <summary>Bytes that are not a good frame, up to the next good frame or the end of the segment.</summary>
    Damage,
}

/// <summary>One scan result. <see cref="Envelope"/> is valid until the next call to the scanner.</summary>
internal readonly record struct ScanEvent(ScanEventKind Kind, long Position, long Length, ReadOnlyMemory<byte> Envelope, string? Reason, bool ReachesEnd);

/// <summary>
/// Reads the frames of one segment in order through a read-ahead window. A bad frame (impossible length, CRC mismatch,
/// cut short) becomes a damage event that extends to the next position where a good frame starts (found by trying
/// every offset: a plausible header, the envelope's first bytes, then the CRC) or to the end of the segment.
/// Every length is checked against <see cref="WalOptions.MaxEntryBytes"/> and against the bytes left before anything
/// is allocated or read. Where a frame would start and only zeros follow up to the end of the segment, the entries
/// end cleanly (<see cref="DataEnd"/>): a preallocated segment (<see cref="WalWriteMode.Direct"/>) is zero-filled ahead
/// of its writes, and zeros after the last entry are not an interrupted write (that would have written non-zero bytes:
/// a frame's length is never 0).
/// </summary>
internal sealed class WalSegmentScanner : IAsyncDisposable
{
    private readonly IWalSegmentReader _reader;
    private readonly string _segment;
    private readonly long _length;
    private readonly int _maxEntryBytes;
    private readonly int _chunkBytes;
    private byte[] _window;
    private long _windowStart;
    private int _windowCount;
    private long _position;
    private long _resyncBudget;
    private long _dataEnd;

    public WalSegmentScanner(IWalSegmentReader reader, string segment, long length, int maxEntryBytes, int chunkBytes)
    {
        _reader = reader;
        _segment = segment;
        _length = length;
        _maxEntryBytes = maxEntryBytes;
        _chunkBytes = chunkBytes;
        _window = ArrayPool<byte>.Shared.Rent((int)Math.Min(chunkBytes, Math.Max(length, 16)));
        // Searching for the next good frame re-checks CRCs of candidate frames; bound that work so that
        // hostile bytes cannot make recovery quadratic.
        _resyncBudget = 4 * length + 2L * maxEntryBytes;
        _dataEnd = length;
    }

    /// <summary>Bytes scanned so far.</summary>
    public long Position => _position;

    /// <summary>Where the segment's bytes end once the scan reached its end: its length, or where its zero tail starts.</summary>
    public long DataEnd => _dataEnd;

    public async ValueTask<ScanEvent> NextAsync(CancellationToken cancellationToken)
    {
        if (_position >= _length) return new ScanEvent(ScanEventKind.End, _dataEnd, 0, default, null, false);
        var start = _position;
        var (envelopeLength, reason) = await TryFrameAsync(start, cancellationToken);
        if (reason is not null && await IsZeroTailAsync(start, cancellationToken))
        {
            _dataEnd = start;
            _position = _length;
            return new ScanEvent(ScanEventKind.End, start, 0, default, null, false);
        }
        if (reason is null)
        {
            _position = start + WalEntryFraming.HeaderBytes + envelopeLength;
            var envelope = Slice(start + WalEntryFraming.HeaderBytes, envelopeLength);
            return new ScanEvent(ScanEventKind.Frame, start, WalEntryFraming.HeaderBytes + envelopeLength, envelope, null, false);
        }
        var next = await FindNextFrameAsync(start + 1, cancellationToken);
        _position = next ?? _length;
        return new ScanEvent(ScanEventKind.Damage, start, _position - start, default, reason, next is null);
    }

    private async ValueTask<(int EnvelopeLength, string? Reason)> TryFrameAsync(long position, CancellationToken cancellationToken)
    {
        var remaining = _length - position;
        if (remaining < WalEntryFraming.HeaderBytes) return (0, $"incomplete frame header ({remaining} bytes left)");
        await EnsureAsync(position, WalEntryFraming.HeaderBytes, cancellationToken);
        var (length, crc) = WalEntryFraming.ReadHeader(Slice(position, WalEntryFraming.HeaderBytes).Span);
        if (length < WalEntryFraming.MinEnvelopeBytes) return (0, $"frame length {length} is below the minimum {WalEntryFraming.MinEnvelopeBytes}");
        if (length > (uint)_maxEntryBytes) return (0, $"frame length {length} exceeds MaxEntryBytes {_maxEntryBytes}");
        if (length > remaining - WalEntryFraming.HeaderBytes)
            return (0, $"frame of {length} bytes extends past the end of the segment ({remaining - WalEntryFraming.HeaderBytes} bytes left)");
        var envelopeLength = (int)length;
        await EnsureAsync(position, WalEntryFraming.HeaderBytes + envelopeLength, cancellationToken);
        var actual = Crc32C.Compute(Slice(position + WalEntryFraming.HeaderBytes, envelopeLength).Span);
        return actual == crc ? (envelopeLength, null) : (0, $"CRC mismatch (stored 0x{crc:X8}, computed 0x{actual:X8})");
    }

    /// <summary>Whether every byte from <paramref name="from"/> to the end of the segment is zero (read a window at a time).</summary>
    private async ValueTask<bool> IsZeroTailAsync(long from, CancellationToken cancellationToken)
    {
        for (var q = from; q < _length;)
        {
            var n = (int)Math.Min(_chunkBytes, _length - q);
            await EnsureAsync(q, n, cancellationToken);
            if (Slice(q, n).Span.IndexOfAnyExcept((byte)0) >= 0) return false;
            q += n;
        }
        return true;
    }

    private async ValueTask<long?> FindNextFrameAsync(long from, CancellationToken cancellationToken)
    {
        const int probe = WalEntryFraming.HeaderBytes + 2;
        var q = from;
        while (q + WalEntryFraming.HeaderBytes + WalEntryFraming.MinEnvelopeBytes <= _length)
        {
            await EnsureAsync(q, (int)Math.Min(_chunkBytes, _length - q), cancellationToken);
            // Scan the window without awaiting; stop at the first plausible candidate.
            var candidate = -1L;
            var window = Slice(q, (int)Math.Min(_windowStart + _windowCount - q, _length - q)).Span;
            for (var i = 0; i + probe <= window.Length; i++)
            {
                var (length, _) = WalEntryFraming.ReadHeader(window.Slice(i, WalEntryFraming.HeaderBytes));
                var left = _length - (q + i) - WalEntryFraming.HeaderBytes;
                if (length < WalEntryFraming.MinEnvelopeBytes || length > (uint)_maxEntryBytes || length > left) continue;
                if (!WalEntryFraming.LooksLikeEnvelopeStart(window.Slice(i + WalEntryFraming.HeaderBytes, 2))) continue;
                candidate = q + i;
                break;
            }
            if (candidate < 0)
            {
                // The loop condition leaves at least `probe` bytes; continue at the first offset not probed.
                q += window.Length - probe + 1;
                continue;
            }
            var (envelopeLength, reason) = await TryFrameAsync(candidate, cancellationToken);
            if (reason is null) return candidate;
            _resyncBudget -= WalEntryFraming.HeaderBytes + envelopeLength + probe;
            if (_resyncBudget < 0)
                throw new WalCorruptException(
                    $"WAL segment '{_segment}': searching for the next good entry after damage at byte {from - 1} exceeded its budget", _segment, from - 1);
            q = candidate + 1;
        }
        return null;
    }

    private async ValueTask EnsureAsync(long position, int count, CancellationToken cancellationToken)
    {
        if (position >= _windowStart && position + count <= _windowStart + _windowCount) return;
        var want = (int)Math.Min(Math.Max(count, _chunkBytes), _length - position);
        if (_window.Length < want)
        {
            ArrayPool<byte>.Shared.Return(_window);
            _window = [];
            _window = ArrayPool<byte>.Shared.Rent(want);
        }
        _windowCount = 0;
        await _reader.ReadExactlyAsync(position, _window.AsMemory(0, want), cancellationToken);
        _windowStart = position;
        _windowCount = want;
    }

    private ReadOnlyMemory<byte> Slice(long position, int count) => _window.AsMemory((int)(position - _windowStart), count);

    public ValueTask DisposeAsync()
    {
        if (_window.Length > 0) ArrayPool<byte>.Shared.Return(_window);
        _window = [];
        return ValueTask.CompletedTask;
    }
}
