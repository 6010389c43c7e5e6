using System.Runtime.CompilerServices;
using Apache.Arrow;
using TimeFusion.Ingest;
using TimeFusion.Storage;
using TimeFusion.Tables;

namespace TimeFusion.Wal;

/// <summary>
/// The write-ahead log of one (project, table): append-only segments of CRC-checked frames
/// (<c>[length u32][crc32c u32][MessagePack envelope]</c>), group commit, replay from an LSN, truncation by whole
/// segments. Opening recovers: a torn tail is cut, damage elsewhere is counted against
/// <see cref="WalOptions.MaxCorruptEntries"/>, and LSNs continue after the highest ever assigned, across truncation
/// and reopen. One writer per (project, table): the owning grain.
/// </summary>
public sealed class WriteAheadLog : IAsyncDisposable
{
    private readonly IWalDirectory _directory;
    private readonly WalNames _names;
    private readonly WalOptions _options;
    private readonly WalSegmentSet _segments;
    private readonly IReadOnlySet<(string Segment, long Position)> _knownDamage;
    private readonly GroupCommitWriter _writer;
    private readonly SemaphoreSlim _truncateGate = new(1, 1);
    private int _disposed;

    private WriteAheadLog(IWalDirectory directory, WalNames names, WalOptions options, WalSegmentSet segments,
        WalRecoveryResult recovery, GroupCommitWriter writer)
    {
        _directory = directory;
        _names = names;
        _options = options;
        _segments = segments;
        _knownDamage = recovery.KnownDamage;
        RecoveryStats = recovery.Stats;
        _writer = writer;
    }

    /// <summary>The (project, table) this log belongs to.</summary>
    public TableId TableId => _names.Id;

    /// <summary>What opening the log found.</summary>
    public WalRecoveryStats RecoveryStats { get; }

    /// <summary>What this log does with damage found when opening (<see cref="WalOptions.CorruptionPolicy"/>).</summary>
    public WalCorruptionPolicy CorruptionPolicy => _options.CorruptionPolicy;

    /// <summary>
    /// Keeps an intact entry that could not be applied (its payload refused on replay) for inspection, in
    /// <c>quarantine.lsn-&lt;lsn&gt;.payload</c> in the log's folder. Returns the file name.
    /// </summary>
    public async Task<string> QuarantineEntryAsync(long lsn, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        var file = $"quarantine.lsn-{lsn}.payload";
        await _directory.CreateFileAsync(file, payload, cancellationToken);
        return file;
    }

    /// <summary>The highest acknowledged LSN (after open: the highest ever assigned; 0 for a new log).</summary>
    public long LastLsn => _writer.LastLsn;

    /// <summary>Whether a failed write or fsync stopped the log; it then fails every append until reopened.</summary>
    public bool IsFaulted => _writer.Fault is not null;

    /// <summary>Counters since open.</summary>
    public WalStatistics Statistics => _writer.Statistics;

    /// <summary>Whether the active segment is written with O_DIRECT (<see cref="WalWriteMode.Direct"/> where the file system allows it).</summary>
    internal bool WritesDirect => _writer.WritesDirect;

    /// <summary>Waits until the background preparation of the active segment (Direct mode) is done (tests).</summary>
    internal async Task WhenPreparedAsync()
    {
        // A control request: the loop has started the preparation that followed the last group when it gets there.
        await FlushAsync();
        await _writer.WhenPreparedAsync();
    }

    /// <summary>The largest payload one entry can carry with these options and names.</summary>
    public int MaxPayloadBytes => _writer.MaxPayloadBytes;

    /// <summary>
    /// Opens (creating on first use) the log of <paramref name="id"/> in <paramref name="storage"/>, checks the folder's
    /// identity and recovers it.
    /// </summary>
    /// <exception cref="WalIdentityException">The folder or an entry belongs to another (project, table).</exception>
    /// <exception cref="WalCorruptException">More damage than <see cref="WalOptions.MaxCorruptEntries"/> allows, or entries out of LSN order.</exception>
    /// <exception cref="WalFormatException">A CRC-valid entry this build cannot read (e.g. a newer format version).</exception>
    public static async Task<WriteAheadLog> OpenAsync(TableId id, IWalStorage storage, WalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        options = (options ?? new WalOptions()).Validate();
        var directory = storage.GetDirectory(StoragePathNames.WalRoot(id));
        var names = new WalNames(id);
        var files = await directory.ListAsync(cancellationToken);
        await WalIdentity.EnsureAsync(directory, id, files.Any(f => WalSegmentName.TryParse(f.Name, out _)), cancellationToken);
        files = await FenceNewestSegmentAsync(directory, files, cancellationToken);
        var recovery = await WalRecovery.RecoverAsync(directory, files, names, options, cancellationToken);

        var segments = new WalSegmentSet();
        IWalSegmentWriter? current = null;
        var created = false;
        var recovered = recovery.Segments;
        for (var i = 0; i < recovered.Count; i++) segments.Add(recovered[i].Name, recovered[i].FirstLsn, recovered[i].Length);
        try
        {
            if (recovered.Count > 0)
            {
                var last = recovered[^1];
                current = await directory.OpenAppendAsync(last.Name, last.Length, options, cancellationToken);
                if (current is null && recovery.LastLsn < last.FirstLsn)
                    throw new InvalidOperationException($"storage refused to reopen empty segment '{last.Name}' in '{directory.Describe}'");
            }
            if (current is null)
            {
                // A new log, or storage that cannot append after a cut tail: start a segment at the next LSN.
                var first = recovery.LastLsn + 1;
                var name = WalSegmentName.Format(first);
                current = await directory.CreateSegmentAsync(name, options, cancellationToken);
                segments.Add(name, first, 0);
                created = true;
            }
        }
        catch
        {
            if (current is not null) await current.DisposeAsync();
            throw;
        }
        var writer = new GroupCommitWriter(directory, segments, names, options, current, recovery.LastLsn, created);
        return new WriteAheadLog(directory, names, options, segments, recovery, writer);
    }

    /// <summary>
    /// Takes the newest segment from any previous writer before recovery reads it, then lists again: what the listing
    /// shows afterwards can no longer grow under us. A previous writer that started a newer segment in between is
    /// fenced on the next round.
    /// </summary>
    private static async Task<IReadOnlyList<WalFileInfo>> FenceNewestSegmentAsync(IWalDirectory directory, IReadOnlyList<WalFileInfo> files,
        CancellationToken cancellationToken)
    {
        for (var round = 0; round < 5; round++)
        {
            var newest = NewestSegment(files);
            if (newest is null) return files;
            await directory.FenceAsync(newest, cancellationToken);
            var again = await directory.ListAsync(cancellationToken);
            if (NewestSegment(again) == newest) return again;
            files = again;
        }
        throw new WalConflictException($"WAL '{directory.Describe}': another writer keeps starting segments while this one takes the log over");
    }

    private static string? NewestSegment(IReadOnlyList<WalFileInfo> files)
    {
        string? newest = null;
        var newestLsn = long.MinValue;
        foreach (var f in files)
        {
            if (WalSegmentName.TryParse(f.Name, out var lsn) && lsn > newestLsn) (newest, newestLsn) = (f.Name, lsn);
        }
        return newest;
    }

    /// <summary>
    /// Appends an entry and completes when it is durable (see <see cref="WalSyncMode"/>), returning its LSN.
    /// The payload must stay unchanged until the returned task completes. Cancelling before the writer takes the
    /// entry withdraws it (it is never written); after that the append completes normally.
    /// </summary>
    /// <exception cref="WalFaultedException">A write or fsync of this log failed; nothing more is acknowledged.</exception>
    public ValueTask<long> AppendAsync(WalOperation operation, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) =>
        _writer.AppendAsync(operation, payload, cancellationToken);

    /// <summary>
    /// Appends a record batch as an insert entry. Only a validated batch is logged: replay validates again what it
    /// reads back, but nothing malformed should be made durable in the first place. Its schema is written once per
    /// segment (inline in the first entry using it), later entries of the segment refer to it, and a small batch leaves
    /// its all-null columns out (see <see cref="WalInsertForms"/>); replay gives back a complete Arrow IPC stream of the
    /// full-width batch either way.
    /// </summary>
    public async ValueTask<long> AppendInsertAsync(ValidatedBatch batch, CancellationToken cancellationToken = default, WalAppendTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var rows = batch.Batch;
        var schema = WalInsertForms.SchemaOf(rows.Schema);
        var capacity = WalPayloads.EstimateCapacity(rows);
        if (!schema.HasDictionaries && ArrowSize.Of(rows) <= WalInsertForms.MaxProjectedBytes && WalColumnMask.Of(rows) is { } mask)
        {
            var projection = schema.Projection(mask);
            using var projected = WalInsertForms.EncodeBodyPooled(mask.ProjectBatch(rows, projection), projection, default, capacity)!;
            return await AppendInsertBodyAsync(schema, projected.Memory, 0, mask, cancellationToken, trace);
        }
        using var body = WalInsertForms.EncodeBodyPooled(rows, rows.Schema, schema.HasDictionaries ? schema.Bytes : default, capacity);
        if (body is not null) return await AppendInsertBodyAsync(schema, body.Memory, 0, null, cancellationToken, trace);
        // The IPC writer did not reproduce the cached schema message: log the whole stream rather than a wrong reference.
        using var payload = WalPayloads.EncodeInsertPooled(rows);
        return await _writer.AppendAsync(WalOperation.Insert, payload.Memory, cancellationToken);
    }

    /// <summary>
    /// Appends an insert body in the schema-sharing forms (<see cref="GroupCommitWriter.AppendInsertAsync"/>); tests also
    /// use it to write the forms of older builds (a Brotli-compressed body).
    /// </summary>
    internal ValueTask<long> AppendInsertBodyAsync(WalSchema schema, ReadOnlyMemory<byte> body, int rawBodyLength, WalColumnMask? mask,
        CancellationToken cancellationToken = default, WalAppendTrace? trace = null) =>
        _writer.AppendInsertAsync(schema, body, rawBodyLength, mask, cancellationToken, trace);

    /// <summary>Appends a delete or update entry.</summary>
    public async ValueTask<long> AppendDmlAsync(WalOperation operation, DmlRecord record, CancellationToken cancellationToken = default)
    {
        if (operation is not (WalOperation.Delete or WalOperation.Update))
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "a DML entry is a Delete or an Update");
        return await _writer.AppendAsync(operation, WalPayloads.EncodeDml(record), cancellationToken);
    }

    /// <summary>
    /// Appends a transaction block's writes to this table as one <see cref="WalOperation.Transaction"/> entry (its own
    /// commit record: replay applies every step or, if the entry never became durable, none).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The steps do not fit one entry (<see cref="MaxPayloadBytes"/>).</exception>
    public async ValueTask<long> AppendTransactionAsync(IReadOnlyList<WalTransactionStep> steps, CancellationToken cancellationToken = default) =>
        await _writer.AppendAsync(WalOperation.Transaction, WalTransaction.Encode(steps), cancellationToken);

    /// <summary>Forces every acknowledged entry to stable storage now (useful with <see cref="WalSyncMode.Interval"/>).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _writer.ControlAsync(WalRequestKind.Sync, 0, cancellationToken);

    /// <summary>
    /// Replays, in LSN order, every acknowledged entry with an LSN above <paramref name="afterLsn"/> (0 for all), as of
    /// the call. Each entry's names and order are checked again; damage not seen (and allowed) at open is an error.
    /// Do not truncate the segments being read at the same time.
    /// </summary>
    public async IAsyncEnumerable<WalEntry> ReadAsync(long afterLsn, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterLsn);
        var segments = _segments.Snapshot();
        var start = 0;
        for (var i = 0; i < segments.Length; i++)
        {
            if (afterLsn == long.MaxValue || segments[i].FirstLsn <= afterLsn + 1) start = i;
        }
        long previous = 0;
        var schemas = new WalSegmentSchemas();
        for (var i = start; i < segments.Length; i++)
        {
            schemas.Reset();
            var segment = segments[i];
            var nextFirst = i + 1 < segments.Length ? segments[i + 1].FirstLsn : long.MaxValue;
            await using var reader = await _directory.OpenReadAsync(segment.Name, cancellationToken);
            await using var scanner = new WalSegmentScanner(reader, segment.Name, segment.Length, _options.MaxEntryBytes, _options.ReadChunkBytes);
            while (true)
            {
                var ev = await scanner.NextAsync(cancellationToken);
                if (ev.Kind == ScanEventKind.End) break;
                if (ev.Kind == ScanEventKind.Damage)
                {
                    if (_knownDamage.Contains((segment.Name, ev.Position))) continue;
                    throw new WalCorruptException(
                        $"WAL '{_directory.Describe}': damaged entry at byte {ev.Position} of segment '{segment.Name}' ({ev.Reason}), " +
                        "not present when the log was opened", segment.Name, ev.Position);
                }
                var header = WalRecovery.DecodeAt(ev, segment.Name);
                _names.Check(header, segment.Name, ev.Position);
                WalRecovery.CheckOrder(header.Lsn, previous, segment.FirstLsn, nextFirst, segment.Name, ev.Position);
                previous = header.Lsn;
                // Skipped inserts still teach the schemas they carry inline: later entries of the segment refer to them.
                var yielded = header.Lsn > afterLsn;
                byte[]? pinned = null;
                var payload = header.Operation == WalOperation.Insert
                    ? schemas.Resolve(header.Payload, yielded, segment.Name, ev.Position, out pinned)
                    : yielded ? header.Payload.ToArray() : default;
                if (!yielded) continue;
                yield return new WalEntry(header.Version, header.Lsn, header.Operation, _names.Id.Project, _names.Id.Table, payload, pinned);
            }
        }
    }

    /// <summary>
    /// Deletes every segment whose entries all have LSNs at or below <paramref name="upToLsn"/> (oldest first). When that
    /// covers the active segment, a new empty one is started first, so the log never loses its place: LSNs keep
    /// increasing after truncation and reopen.
    /// </summary>
    public async Task TruncateAsync(long upToLsn, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(upToLsn);
        if (upToLsn > LastLsn)
            throw new ArgumentOutOfRangeException(nameof(upToLsn), upToLsn, $"cannot truncate past the last LSN {LastLsn}");
        await _truncateGate.WaitAsync(cancellationToken);
        try
        {
            await _writer.ControlAsync(WalRequestKind.RollIfCovered, upToLsn, cancellationToken);
            foreach (var segment in _segments.Covered(upToLsn))
            {
                await _directory.DeleteAsync(segment.Name, cancellationToken);
                _segments.Remove(segment.Name);
            }
        }
        finally
        {
            _truncateGate.Release();
        }
    }

    /// <summary>Writes what is queued, fsyncs and closes the log.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _writer.DisposeAsync();
        _truncateGate.Dispose();
    }
}
