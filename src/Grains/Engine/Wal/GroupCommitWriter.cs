using System.Diagnostics;
using System.Threading.Channels;

namespace TimeFusion.Wal;

/// <summary>
/// The single writer loop of a log. Appends queue in a bounded channel; the loop drains whatever is waiting
/// (up to <see cref="WalOptions.MaxGroupCommitEntries"/> / <see cref="WalOptions.MaxGroupCommitBytes"/>), assigns LSNs
/// in file order, writes the frames with one vectored write per segment and one fsync for the whole group (both on the
/// loop's thread), then completes every append of the group on one pool work item, their continuations running there
/// one after another. No caller thread blocks: callers await a task. After a failed write or
/// fsync the loop is faulted: the tail of the segment is unknown, so it fails every later request.
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly IWalDirectory _directory;
    private readonly WalSegmentSet _segments;
    private readonly WalNames _names;
    private readonly WalOptions _options;
    private readonly Channel<WalRequest> _channel;
    private readonly PooledBufferWriter _scratch = new(64 * 1024);
    private readonly List<WalRequest> _batch = [];
    private readonly List<ReadOnlyMemory<byte>> _gather = [];
    // Ids of the schemas the segment being written already carries. Starts empty on open (re-inlining is harmless, a
    // missing schema is not) and is emptied whenever a segment starts, so every segment stays self-contained.
    private readonly HashSet<UInt128> _segmentSchemas = [];
    private readonly Task _loop;
    private IWalSegmentWriter _current;
    // The segment a roll closed, closed for good after the group that rolled was acknowledged.
    private IWalSegmentWriter? _retired;
    private long _lastAssigned;
    private long _lastAcked;
    private volatile Exception? _fault;
    private bool _unsynced;
    private bool _acknowledgedUnsynced;
    private long _lastSyncTicks;
    private long _appends, _batches, _fsyncs, _bytes, _segmentsCreated;
    // Bytes of the last groups (a ring): what the storage prepares room for after each acknowledgement.
    private readonly long[] _recentGroupBytes = new long[16];
    private int _recentGroupIndex;

    public GroupCommitWriter(IWalDirectory directory, WalSegmentSet segments, WalNames names, WalOptions options, IWalSegmentWriter current, long lastLsn, bool createdSegment)
    {
        _directory = directory;
        _segments = segments;
        _names = names;
        _options = options;
        _current = current;
        _lastAssigned = _lastAcked = lastLsn;
        _segmentsCreated = createdSegment ? 1 : 0;
        _lastSyncTicks = Stopwatch.GetTimestamp();
        _channel = Channel.CreateBounded<WalRequest>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The highest acknowledged LSN.</summary>
    public long LastLsn => Volatile.Read(ref _lastAcked);

    /// <summary>Whether the active segment is written with O_DIRECT (read when the loop is idle: tests).</summary>
    public bool WritesDirect => _current is DirectSegmentWriter { IsDirect: true };

    /// <summary>Waits until the active segment's background preparation is done (tests; read when the loop is idle).</summary>
    internal Task WhenPreparedAsync() => _current is DirectSegmentWriter direct ? direct.WhenPreparedAsync() : Task.CompletedTask;

    /// <summary>The failure that faulted the loop, or null.</summary>
    public Exception? Fault => _fault;

    public WalStatistics Statistics => new(
        Interlocked.Read(ref _appends), Interlocked.Read(ref _batches), Interlocked.Read(ref _fsyncs),
        Interlocked.Read(ref _bytes), Interlocked.Read(ref _segmentsCreated));

    /// <summary>Largest payload that fits <see cref="WalOptions.MaxEntryBytes"/> with this log's envelope fields.</summary>
    public int MaxPayloadBytes => _options.MaxEntryBytes - (_names.Encoded.Length + 24);

    public async ValueTask<long> AppendAsync(WalOperation operation, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (operation is < WalOperation.Insert or > WalOperation.Transaction)
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown WAL operation");
        if (payload.Length > MaxPayloadBytes)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"a WAL payload may hold at most {MaxPayloadBytes} bytes (MaxEntryBytes {_options.MaxEntryBytes})");
        // Readers would take such bytes for a schema-sharing insert form and misread them.
        if (operation == WalOperation.Insert && WalInsertForms.HasMarker(payload.Span))
            throw new ArgumentException("a raw insert payload may not start with the WAL's schema-form marker (an Arrow IPC stream never does)", nameof(payload));
        return await SubmitAsync(WalRequest.Append(operation, payload), cancellationToken);
    }

    /// <summary>
    /// Appends an insert whose schema the writer inlines in the first entry of a segment using it and refers to by id
    /// afterwards; <paramref name="body"/> is the IPC stream after the schema message — of the columns
    /// <paramref name="mask"/> keeps when given — and Brotli-compressed when <paramref name="rawBodyLength"/> (its
    /// uncompressed length) is not 0 (only tests write that older form now).
    /// </summary>
    public async ValueTask<long> AppendInsertAsync(WalSchema schema, ReadOnlyMemory<byte> body, int rawBodyLength, WalColumnMask? mask, CancellationToken cancellationToken,
        WalAppendTrace? trace = null)
    {
        if (rawBodyLength > 0 && mask is not null) throw new ArgumentException("a projected body is not compressed", nameof(mask));
        var request = WalRequest.AppendInsert(schema, body, rawBodyLength, mask);
        request.Trace = trace;
        if (request.MaxPayloadLength > MaxPayloadBytes)
            throw new ArgumentOutOfRangeException(nameof(body), request.MaxPayloadLength, $"a WAL payload may hold at most {MaxPayloadBytes} bytes (MaxEntryBytes {_options.MaxEntryBytes})");
        return await SubmitAsync(request, cancellationToken);
    }

    private async ValueTask<long> SubmitAsync(WalRequest request, CancellationToken cancellationToken)
    {
        ThrowIfFaulted();
        cancellationToken.ThrowIfCancellationRequested();
        request.EnqueuedTicks = Stopwatch.GetTimestamp();
        if (request.Trace is { } trace) trace.Enqueued = request.EnqueuedTicks;
        await EnqueueAsync(request, cancellationToken);
        if (!cancellationToken.CanBeCanceled) return await request.Completion;
        using (cancellationToken.UnsafeRegister(static (state, token) => ((WalRequest)state!).TryCancel(token), request))
        {
            return await request.Completion;
        }
    }

    /// <summary>Sends a control request and waits for it; control requests are not cancellable once queued.</summary>
    public async Task<long> ControlAsync(WalRequestKind kind, long upToLsn, CancellationToken cancellationToken)
    {
        ThrowIfFaulted();
        var request = WalRequest.Control(kind, upToLsn);
        request.TryClaim();
        await EnqueueAsync(request, cancellationToken);
        return await request.Completion;
    }

    private async ValueTask EnqueueAsync(WalRequest request, CancellationToken cancellationToken)
    {
        try
        {
            if (!_channel.Writer.TryWrite(request)) await _channel.Writer.WriteAsync(request, cancellationToken);
        }
        catch (ChannelClosedException e)
        {
            throw new ObjectDisposedException($"the WAL of {_names.Id} is closed", e);
        }
    }

    private void ThrowIfFaulted()
    {
        var fault = _fault;
        if (fault is not null) throw Faulted(fault);
    }

    private WalFaultedException Faulted(Exception fault) => new(
        $"the WAL of {_names.Id} in '{_directory.Describe}' is faulted since a write or fsync failed ({fault.Message}); " +
        "it acknowledges nothing more: reopen it to recover", fault);

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        Task<bool>? wait = null;
        try
        {
            while (true)
            {
                wait ??= reader.WaitToReadAsync().AsTask();
                if (_unsynced && !wait.IsCompleted)
                {
                    // Interval mode: fsync when the interval is up, unless new work arrives first.
                    var due = _options.SyncInterval - Stopwatch.GetElapsedTime(_lastSyncTicks);
                    if (due > TimeSpan.Zero) await Task.WhenAny(wait, Task.Delay(due));
                    if (!wait.IsCompleted)
                    {
                        await SyncAsync();
                        continue;
                    }
                }
                if (!await wait) break;
                wait = null;
                await DrainAsync(reader);
                if (_unsynced && Stopwatch.GetElapsedTime(_lastSyncTicks) >= _options.SyncInterval) await SyncAsync();
            }
        }
        catch (Exception e)
        {
            // Only a bug gets here (request failures are handled per batch): fault and keep failing requests.
            _fault ??= e;
            foreach (var r in _batch) r.Fail(Faulted(_fault));
            _batch.Clear();
            while (await reader.WaitToReadAsync()) FailQueued(reader);
        }
        finally
        {
            if (_unsynced && _fault is null) await SyncAsync();
            await CloseRetiredAsync();
            await _current.DisposeAsync();
            _scratch.Dispose();
        }
    }

    private void FailQueued(ChannelReader<WalRequest> reader)
    {
        while (reader.TryRead(out var request))
        {
            if (request.Kind != WalRequestKind.Append || request.TryClaim()) request.Fail(Faulted(_fault!));
        }
    }

    private async Task DrainAsync(ChannelReader<WalRequest> reader)
    {
        _batch.Clear();
        long bytes = 0;
        while (reader.TryPeek(out var next))
        {
            if (next.Kind != WalRequestKind.Append)
            {
                if (_batch.Count > 0) break;
                reader.TryRead(out _);
                await HandleControlAsync(next);
                continue;
            }
            if (_batch.Count > 0 && (_batch.Count >= _options.MaxGroupCommitEntries || bytes + next.MaxPayloadLength > _options.MaxGroupCommitBytes)) break;
            reader.TryRead(out _);
            if (!next.TryClaim()) continue;
            _batch.Add(next);
            bytes += next.MaxPayloadLength;
        }
        if (_batch.Count > 0)
        {
            var claimed = Stopwatch.GetTimestamp();
            foreach (var r in _batch)
            {
                if (r.EnqueuedTicks != 0) WalMetrics.QueueWait.Record(Stopwatch.GetElapsedTime(r.EnqueuedTicks, claimed).TotalMilliseconds);
                if (r.Trace is { } trace)
                {
                    trace.Claimed = claimed;
                    trace.GroupEntries = _batch.Count;
                }
            }
            WalMetrics.GroupEntries.Record(_batch.Count);
        }
        if (_batch.Count > 0) await WriteBatchAsync();
    }

    private async Task HandleControlAsync(WalRequest request)
    {
        if (_fault is { } fault)
        {
            request.Fail(Faulted(fault));
            return;
        }
        try
        {
            switch (request.Kind)
            {
                case WalRequestKind.Sync:
                    if (_unsynced) await SyncAsync();
                    ThrowIfFaulted();
                    request.Succeed(LastLsn);
                    break;
                case WalRequestKind.RollIfCovered:
                    var roll = _current.Length > 0 && LastLsn <= request.UpToLsn;
                    if (roll)
                    {
                        await RollAsync(LastLsn + 1);
                        await CloseRetiredAsync();
                        _segmentSchemas.Clear();
                    }
                    request.Succeed(roll ? 1 : 0);
                    break;
                default:
                    throw new InvalidOperationException($"unexpected control request {request.Kind}");
            }
        }
        catch (Exception e)
        {
            _fault ??= e;
            request.Fail(Faulted(_fault));
        }
    }

    private async Task WriteBatchAsync()
    {
        if (_fault is { } fault)
        {
            foreach (var r in _batch) r.Fail(Faulted(fault));
            return;
        }
        try
        {
            Encode(rollFirst: false);
            // Storage that limits appends per segment (Azure blocks) may need a new segment before the first run; the
            // schema forms depend on the segment, so the group is encoded again as starting one.
            if (!_batch[0].StartsSegment && _current.Length > 0 && !_current.CanAppend(FirstRunBytes()))
            {
                _lastAssigned -= _batch.Count;
                Encode(rollFirst: true);
            }
            var i = 0;
            long groupBytes = 0;
            while (i < _batch.Count)
            {
                var j = i + 1;
                while (j < _batch.Count && !_batch[j].StartsSegment) j++;
                if (_batch[i].StartsSegment) await RollAsync(_batch[i].Lsn);
                _gather.Clear();
                long runBytes = 0;
                for (var k = i; k < j; k++)
                {
                    var r = _batch[k];
                    _gather.Add(_scratch.WrittenMemory.Slice(r.HeaderOffset, r.HeaderLength));
                    if (r.InlineSchema) _gather.Add(r.Schema!.Bytes);
                    if (!r.Payload.IsEmpty) _gather.Add(r.Payload);
                    runBytes += r.FrameLength;
                }
                // Never cancelled midway: a half-written group would leave an unknown tail.
                await _current.AppendAsync(_gather, CancellationToken.None);
                Interlocked.Add(ref _bytes, runBytes);
                groupBytes += runBytes;
                i = j;
            }
            _gather.Clear();
            _recentGroupBytes[_recentGroupIndex++ % _recentGroupBytes.Length] = groupBytes;
            var written = Stopwatch.GetTimestamp();
            foreach (var r in _batch)
                if (r.Trace is { } trace) trace.Written = written;
            if (_options.SyncMode == WalSyncMode.PerCommit) await FlushCurrentAsync();
            else _unsynced = true;
        }
        catch (Exception e)
        {
            _gather.Clear();
            _fault ??= e;
            foreach (var r in _batch) r.Fail(Faulted(_fault));
            _batch.Clear();
            return;
        }
        _segments.SetLength(_current.Name, _current.Length);
        Interlocked.Add(ref _appends, _batch.Count);
        Interlocked.Increment(ref _batches);
        Volatile.Write(ref _lastAcked, _batch[^1].Lsn);
        var synced = Stopwatch.GetTimestamp();
        foreach (var r in _batch)
            if (r.Trace is { } trace) trace.Synced = synced;
        var group = _batch.ToArray();
        _batch.Clear();
        // One pool work item completes the whole group, its writers' continuations running one after another on it
        // (the loop goes on to the next group meanwhile): a queued completion per writer woke a pool thread per
        // statement under 30-row INSERTs (docs/BENCHMARKS.md, session 13, `insert16`).
        ThreadPool.UnsafeQueueUserWorkItem(static group => CompleteGroup(group), group, preferLocal: false);
        await PrepareAheadAsync();
    }

    /// <summary>
    /// Lets the storage make room for the next groups (Direct mode: zero-filled blocks, the next segment) now that this
    /// group's appends are completing. A failure here faults the log like a failed write: what it leaves is unknown.
    /// </summary>
    private async Task PrepareAheadAsync()
    {
        await CloseRetiredAsync();
        long expected = 0;
        foreach (var bytes in _recentGroupBytes) expected = Math.Max(expected, bytes);
        try
        {
            await _current.PrepareAsync(expected, CancellationToken.None);
        }
        catch (Exception e)
        {
            _fault ??= e;
        }
    }

    /// <summary>
    /// Completes a durable group's appends, last first: the later writers of one table each register for their turn to
    /// apply (their predecessors are not applied yet), then the first one's turn comes and it applies the others' rows
    /// with its own (<see cref="Engine.LsnSequencer.TakeSuccessors"/>) and completes them, still on this thread.
    /// </summary>
    private static void CompleteGroup(WalRequest[] group)
    {
        for (var k = group.Length - 1; k >= 0; k--)
            group[k].CompleteInline(group[k].Lsn);
    }

    /// <summary>
    /// Assigns LSNs, decides which entries start a segment and encodes every frame header, envelope prefix and schema
    /// form header into the scratch buffer. The inline-or-reference choice of an insert is made here, with the segment
    /// it lands in: inline when that segment does not carry its schema yet. With <paramref name="rollFirst"/> the
    /// first entry starts a new segment.
    /// </summary>
    private void Encode(bool rollFirst)
    {
        _scratch.Reset();
        var segmentLength = _current.Length;
        for (var k = 0; k < _batch.Count; k++)
        {
            var r = _batch[k];
            r.Lsn = ++_lastAssigned;
            var starts = k == 0 && rollFirst;
            if (starts) _segmentSchemas.Clear();
            var start = _scratch.WrittenCount;
            var frame = EncodeFrame(r, start, r.Schema is { } schema && !_segmentSchemas.Contains(schema.Id));
            if (!starts && segmentLength > 0 && segmentLength + frame > _options.SegmentSizeBytes)
            {
                starts = true;
                _segmentSchemas.Clear();
                if (r.Schema is not null && !r.InlineSchema)
                {
                    // First in its segment after all: it must carry its schema.
                    _scratch.Rewind(start);
                    frame = EncodeFrame(r, start, inline: true);
                }
            }
            r.StartsSegment = starts;
            if (starts) segmentLength = 0;
            if (r.InlineSchema) _segmentSchemas.Add(r.Schema!.Id);
            segmentLength += frame;
        }
    }

    /// <summary>Writes one frame's header, envelope prefix and form header at <paramref name="start"/>; returns the frame's length.</summary>
    private long EncodeFrame(WalRequest r, int start, bool inline)
    {
        var schema = r.Schema;
        r.InlineSchema = inline && schema is not null;
        var schemaBytes = r.InlineSchema ? schema!.Bytes.Length : 0;
        var formBytes = schema is null ? 0 : WalInsertForms.HeaderLength(r.InlineSchema, r.RawBodyLength > 0, r.Mask);
        _scratch.GetSpan(WalEntryFraming.HeaderBytes);
        _scratch.Advance(WalEntryFraming.HeaderBytes);
        WalEnvelope.WritePrefix(_scratch, r.Lsn, r.Operation, _names.Encoded, formBytes + schemaBytes + r.Payload.Length);
        if (schema is not null) WalInsertForms.WriteHeader(_scratch, schema, r.InlineSchema, r.RawBodyLength, r.Mask);
        var headerEnd = _scratch.WrittenCount;
        var crc = Crc32C.Compute(_scratch.WrittenSpan[(start + WalEntryFraming.HeaderBytes)..headerEnd]);
        if (r.InlineSchema) crc = Crc32C.Append(crc, schema!.Bytes);
        crc = Crc32C.Append(crc, r.Payload.Span);
        var envelopeLength = headerEnd - start - WalEntryFraming.HeaderBytes + schemaBytes + r.Payload.Length;
        WalEntryFraming.WriteHeader(_scratch.WrittenSpan.Slice(start, WalEntryFraming.HeaderBytes), envelopeLength, crc);
        r.HeaderOffset = start;
        r.HeaderLength = headerEnd - start;
        r.FrameLength = (long)WalEntryFraming.HeaderBytes + envelopeLength;
        return r.FrameLength;
    }

    /// <summary>Bytes of the entries before the first that starts a segment.</summary>
    private long FirstRunBytes()
    {
        long bytes = 0;
        for (var k = 0; k < _batch.Count && (k == 0 || !_batch[k].StartsSegment); k++) bytes += _batch[k].FrameLength;
        return bytes;
    }

    /// <summary>Closes the active segment (durably) and starts one whose first entry will be <paramref name="firstLsn"/>.</summary>
    private async Task RollAsync(long firstLsn)
    {
        await FlushCurrentAsync();
        _segments.SetLength(_current.Name, _current.Length);
        var name = WalSegmentName.Format(firstLsn);
        var next = await _directory.CreateSegmentAsync(name, _options, CancellationToken.None);
        var previous = _current;
        _current = next;
        _segments.Add(name, firstLsn, 0);
        Interlocked.Increment(ref _segmentsCreated);
        // Closing may cut a preallocated zero tail (an fsync): done after the group's acknowledgement, not before it.
        if (_retired is not null) await _retired.DisposeAsync();
        _retired = previous;
    }

    private async Task CloseRetiredAsync()
    {
        var retired = _retired;
        _retired = null;
        if (retired is not null) await retired.DisposeAsync();
    }

    /// <summary>The fsync of interval mode: its failure faults the log, and entries already acknowledged may be lost.</summary>
    private async Task SyncAsync()
    {
        try
        {
            await FlushCurrentAsync();
        }
        catch (Exception e)
        {
            _fault ??= e;
            _acknowledgedUnsynced = true;
        }
    }

    private async Task FlushCurrentAsync()
    {
        var started = Stopwatch.GetTimestamp();
        await _current.FlushAsync(CancellationToken.None);
        WalMetrics.FsyncDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        _unsynced = false;
        _lastSyncTicks = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _fsyncs);
    }

    /// <summary>Stops accepting requests, writes what is queued, fsyncs, closes the segment. Throws a fault that a final fsync hit.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop;
        if (_acknowledgedUnsynced && _fault is { } fault)
        {
            _acknowledgedUnsynced = false;
            throw new WalFaultedException(
                $"the WAL of {_names.Id} in '{_directory.Describe}' could not fsync entries it had acknowledged (interval mode): {fault.Message}", fault);
        }
    }
}
