using System.Globalization;
using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.DuckDb;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>Persisting: Parquet export of the rows up to an LSN, and their removal once the Delta commit holds them.</summary>
public sealed partial class BufferTable
{
    /// <summary>
    /// Writes the rows with LSN at or below <paramref name="upToLsn"/> to Parquet, one file per date partition under
    /// <paramref name="directory"/> (<c>date=YYYY-MM-DD/part-…-c000.zstd.parquet</c>), sorted by timestamp, zstd level 1,
    /// 122,880-row groups, with statistics from DuckDB's <c>RETURN_STATS</c>. All files come from one snapshot.
    /// Rows only from the tail whose <see cref="TailRowFacts"/> say they are in timestamp order are written as they
    /// are (no sort), other rows only from the tail are sorted in C#; both with ParquetSharp's Arrow writer, and the
    /// tail's tracked dates stand in for a <c>SELECT DISTINCT date</c> pass.
    /// Rows are not deleted: call <see cref="DeleteUpToAsync"/> once the Delta commit holding the files succeeded.
    /// Seals the generation taking appends first when it holds such rows, so that the delete is a DETACH.
    /// On failure the files written so far are deleted.
    /// </summary>
    /// Rows not meeting <c>rowFilter</c> (a SQL condition, for retention; null keeps all) are not written.
    /// A <paramref name="background"/> export (a flush) first waits for one of the silo's export slots when they are
    /// limited (<see cref="BufferOptions.MaxConcurrentExports"/>, off by default), then runs at
    /// <see cref="BufferOptions.ExportNice"/>, on one thread with <see cref="BufferOptions.ExportOnOneThread"/>; a foreground one (a COPY's spill, which its statement
    /// waits for) takes no slot and runs at normal priority, encoding columns on several threads.
    public async Task<IReadOnlyList<ExportedFile>> ExportParquetAsync(long upToLsn, string directory, CancellationToken cancellationToken, string? rowFilter = null,
        bool background = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        // A flush waits for a silo-wide export slot before it takes anything (BufferOptions.MaxConcurrentExports).
        var slots = background ? _db.ExportSlots : null;
        if (slots is not null) await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ExportParquetInSlotAsync(upToLsn, directory, cancellationToken, rowFilter, background).ConfigureAwait(false);
        }
        finally
        {
            slots?.Release();
        }
    }

    private async Task<IReadOnlyList<ExportedFile>> ExportParquetInSlotAsync(long upToLsn, string directory, CancellationToken cancellationToken, string? rowFilter,
        bool background)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            ThrowIfTailFaulted();
            var root = Path.GetFullPath(directory);
            lock (_gate)
                _pendingFlushLsn = Math.Max(_pendingFlushLsn, upToLsn);
            await SealActiveIfAsync(g => !g.IsEmpty && g.MinLsn <= upToLsn, cancellationToken).ConfigureAwait(false);
            // The tail's rows are written from the tail (never appended to DuckDB); the generations are read below the
            // tail's start, so that a move of the tail into DuckDB meanwhile duplicates nothing.
            var (tail, tailStart, batchFacts) = TakeTail(-1, upToLsn);
            // Batches each in order but not arriving in order (concurrent writers): scanned in the order of their
            // timestamps, when that puts every row in order.
            var (order, facts) = TailRowFacts.Arrange(batchFacts);
            if (SkipSortWhenOrdered && facts.Ordered)
                tail = order.Select(i => tail[i]).ToList();
            List<BufferGeneration> sources;
            lock (_gate)
                sources = _generations.Where(g => !g.IsEmpty && g.MinLsn <= upToLsn && g.MinLsn < tailStart).ToList();
            if (sources.Count == 0 && tail.Count == 0)
                return [];
            // Rows only from the tail: its facts give the dates (no DISTINCT pass) and, when the rows arrived in
            // timestamp order, spare DuckDB's full-width sort. Rows from DuckDB's generations are looked up and sorted.
            if (sources.Count > 0)
                facts = TailRowFacts.Unknown;
            if (!UseTrackedDates)
                facts = facts with { Dates = null };
            if (!SkipSortWhenOrdered)
                facts = facts with { Ordered = false };
            // Rows only from the tail, all kept, dates known (so no null timestamp or date), in the table's canonical
            // Arrow types (the common case): written straight from the Arrow arrays, no pass through DuckDB. Rows in
            // timestamp order are written as they are; others are gathered in timestamp order first (concurrent
            // writers' small INSERTs interleave, late spans): DuckDB's full-width sort and Parquet writer took most of
            // the silo's DuckDB time under such load (docs/BENCHMARKS.md, session 11).
            var arrowWriter = UseArrowWriter && sources.Count == 0 && rowFilter is null && facts.Dates is not null
                              && (facts.Ordered || SortTailWithArrow)
                              && tail.Count > 0 && tail.All(b => TailParquetWriter.CanWrite(b.Schema, Schema));
            LastExportUsedArrowWriter = arrowWriter;
            if (arrowWriter)
            {
                LastExportSorted = !facts.Ordered;
                // A lowered export also lowers Arrow's pool workers (ArrowCpuPool) and encodes on them: every idle core,
                // but after acknowledgements.
                var nice = ExportNiceFor(background);
                var maxStats = _db.Options.MaxStatsStringLength;
                var pool = !(background && _db.Options.ExportOnOneThread && !FallingBehind);
                LastExportUsedPool = pool;
                var omit = _db.Options.OmitNullColumns;
                return await RunExportThreadAsync(nice, () => facts.Ordered
                    ? TailParquetWriter.Write(tail, Schema, root, maxStats, useThreads: pool, cancellationToken, omit)
                    : TailParquetWriter.WriteSorted(tail, Schema, root, maxStats, useThreads: pool, cancellationToken, omit)).ConfigureAwait(false);
            }
            var limit = Math.Min(upToLsn, tailStart - 1);
            var parts = sources.Select(g => g.MaxLsn > limit
                ? $"SELECT * EXCLUDE ({QuotedLsn}) FROM {g.QuotedTable} WHERE {QuotedLsn} <= {limit}"
                : $"SELECT * EXCLUDE ({QuotedLsn}) FROM {g.QuotedTable}").ToList();
            // All cores: on one thread the export took long enough that acknowledgements queued behind the flush
            // (ack p99 at half the max rate 2.8 s, against 0.2 s with all cores; docs/BENCHMARKS.md, session 8).
            using var tailScan = tail.Count > 0 ? RegisterScan(tail) : null;
            if (tailScan is not null)
                parts.Add($"SELECT * FROM {tailScan.Sql}");
            var source = string.Join(" UNION ALL ", parts);
            if (rowFilter is not null)
                source = $"SELECT * FROM ({source}) WHERE {rowFilter}";
            return await RunExportThreadAsync(ExportNiceFor(background), () => Export(source, facts, root, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    /// <summary>
    /// Runs an export on a thread of its own at niceness <paramref name="nice"/>: it blocks that thread for the whole
    /// export (a blocked thread-pool thread would be one of the two, on 2 cores, that run acknowledgements), and at a
    /// lowered priority acknowledgements get a contended core first (docs/BENCHMARKS.md, session 11). A lowered export
    /// is raised to normal priority as soon as its table falls behind while it runs (<see cref="RaiseExportIfBehind"/>).
    /// </summary>
    private Task<List<ExportedFile>> RunExportThreadAsync(int nice, Func<List<ExportedFile>> export) =>
        LowPriorityThread.RunAsync("TimeFusion export", nice, idle: false, () =>
        {
            LastExportNice = LowPriorityThread.CurrentThreadNice();
            using var self = ArrowCpuPool.RegisterExportThread();
            // With lowered exports configured, Arrow's pool workers encode at the lowest niceness of the exports running:
            // lowered while they all keep up, normal (where the OS allows it) once one falls behind, and for a COPY's spill.
            using var priority = ExportPriority.Enter(nice, setsPool: _db.Options.ExportNice > 0);
            if (nice > 0)
            {
                Volatile.Write(ref _runningExport, priority);
                // Rows appended between the decision and the publication above found no export to raise.
                RaiseExportIfBehind();
            }
            try
            {
                OnExportThread?.Invoke();
                return export();
            }
            finally
            {
                Volatile.Write(ref _runningExport, null);
                LastExportRaised = priority.Raised;
                LastExportRaiseRefused = priority.RaiseRefused;
                LastExportNiceAtEnd = LowPriorityThread.CurrentThreadNice();
            }
        });

    /// <summary>
    /// Raises this table's running lowered export to normal priority when the table is falling behind: called after
    /// rows were added to the tail (under the append lock; cheap unless an export is lowered and the mark is crossed).
    /// </summary>
    private void RaiseExportIfBehind()
    {
        if (Volatile.Read(ref _runningExport) is { Raised: false } export && FallingBehind)
            export.Raise();
    }

    private ExportPriority? _runningExport; // this table's export while it runs lowered

    /// <summary>
    /// The niceness of an export: <see cref="BufferOptions.ExportNice"/> for a flush, unless the flushes are falling
    /// behind (the tail holds <see cref="BufferOptions.FallingBehindFraction"/> of <see cref="BufferOptions.TailRows"/> or more): then the export must catch up before
    /// the tail moves into DuckDB, which costs far more CPU than the export itself, and runs at normal priority.
    /// A COPY's spill, which its statement waits for, runs at normal priority. Where the OS would refuse to raise a
    /// lowered export again (<see cref="ExportPriority.CanRaise"/>), none is lowered: one that fell behind could not
    /// catch up (session 13's lost maximum).
    /// </summary>
    private int ExportNiceFor(bool background) =>
        background && !FallingBehind && ExportPriority.CanRaise ? _db.Options.ExportNice : 0;

    /// <summary>
    /// Whether the flushes are falling behind: the tail holds <see cref="BufferOptions.FallingBehindFraction"/> of
    /// <see cref="BufferOptions.TailRows"/> or more.
    /// </summary>
    private bool FallingBehind => Interlocked.Read(ref _tailRows) >= Math.Max(1L, (long)(_db.Options.TailRows * _db.Options.FallingBehindFraction));

    /// <summary>Whether the last export with the Arrow writer encoded on Arrow's thread pool (tests).</summary>
    internal bool LastExportUsedPool { get; private set; }

    /// <summary>The niceness of the thread that ran the last export, at its start (tests; null off Linux).</summary>
    internal int? LastExportNice { get; private set; }

    /// <summary>The niceness of the thread that ran the last export, at its end (tests: a raised export ends at 0; null off Linux).</summary>
    internal int? LastExportNiceAtEnd { get; private set; }

    /// <summary>Whether the last export was raised to normal priority while it ran, its table falling behind (tests).</summary>
    internal bool LastExportRaised { get; private set; }

    /// <summary>Whether the last export's raise was refused by the OS (it ended lowered).</summary>
    internal bool LastExportRaiseRefused { get; private set; }

    /// <summary>
    /// The last export's priority for the flush's log line: <c>nice 10</c> (lowered throughout), <c>nice 10 → 0</c>
    /// (raised, its table falling behind), <c>nice 10, raise refused</c>, <c>nice 0</c>; <c>nice ?</c> off Linux.
    /// </summary>
    internal string LastExportPriority => LastExportNice is not { } start ? "nice ?"
        : LastExportRaised ? LastExportRaiseRefused
            ? FormattableString.Invariant($"nice {start}, raise refused")
            : FormattableString.Invariant($"nice {start} → {LastExportNiceAtEnd}")
        : FormattableString.Invariant($"nice {start}");

    /// <summary>Whether this table's export running now is lowered and not yet raised (tests).</summary>
    internal bool ExportRunningLowered => Volatile.Read(ref _runningExport) is { Raised: false };

    /// <summary>Runs on an export's thread before it writes anything (tests: holds an export open while rows are appended).</summary>
    internal Action? OnExportThread { get; set; }

    private async Task SealActiveIfAsync(Func<BufferGeneration, bool> condition, CancellationToken cancellationToken)
    {
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            bool seal;
            lock (_gate)
                seal = condition(_generations[^1]);
            if (seal)
                await Task.Run(Rotate, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _appendLock.Release();
        }
    }

    /// <summary>Whether the export takes the dates from the tail's <see cref="TailRowFacts"/> (benchmarks turn it off to compare).</summary>
    internal bool UseTrackedDates { get; set; } = true;

    /// <summary>Whether the export skips the sort of rows the tail's <see cref="TailRowFacts"/> know are ordered (benchmarks turn it off to compare).</summary>
    internal bool SkipSortWhenOrdered { get; set; } = true;

    /// <summary>
    /// The Parquet compression options of the export (benchmarks compare codecs). zstd level 1: against DuckDB's
    /// default level it cost less CPU and wrote smaller files on otel rows (77.5 against 81.7 B/row); snappy and
    /// lz4_raw cost about as little but wrote files 65 % larger (docs/BENCHMARKS.md, "A cheaper flush").
    /// </summary>
    internal string ExportCompression { get; set; } = DefaultExportCompression;

    /// <summary>
    /// Whether an export of ordered tail rows writes them with ParquetSharp's Arrow writer (<see cref="TailParquetWriter"/>)
    /// rather than DuckDB's COPY (<see cref="BufferOptions.ArrowWriterExport"/>; benchmarks and equivalence tests set it to compare).
    /// </summary>
    internal bool UseArrowWriter
    {
        get => _useArrowWriter ?? _db.Options.ArrowWriterExport;
        set => _useArrowWriter = value;
    }

    private bool? _useArrowWriter;

    /// <summary>
    /// Whether an export of tail rows not in timestamp order also takes the Arrow writer, the rows gathered in timestamp
    /// order in C# (<see cref="TailParquetWriter.WriteSorted"/>), rather than DuckDB's sort and COPY
    /// (<see cref="BufferOptions.ArrowSortExport"/>; benchmarks and equivalence tests set it to compare).
    /// </summary>
    internal bool SortTailWithArrow
    {
        get => _sortTailWithArrow ?? _db.Options.ArrowSortExport;
        set => _sortTailWithArrow = value;
    }

    private bool? _sortTailWithArrow;

    /// <summary>Whether exports leave out the columns null in every row (<see cref="BufferOptions.OmitNullColumns"/>; also OPTIMIZE's rewrites).</summary>
    internal bool OmitNullColumns => _db.Options.OmitNullColumns;

    /// <summary>Whether the last export wrote with ParquetSharp's Arrow writer (tests).</summary>
    internal bool LastExportUsedArrowWriter { get; private set; }

    /// <summary>Whether the last export sorted its rows (tests: rows known to be in order are not sorted again).</summary>
    internal bool LastExportSorted { get; private set; }

    internal const string DefaultExportCompression = "COMPRESSION zstd, COMPRESSION_LEVEL 1";

    private List<ExportedFile> Export(string source, TailRowFacts facts, string root, CancellationToken cancellationToken)
    {
        var files = new List<ExportedFile>();
        var date = SqlNames.Quote(TableSchema.DateColumn);
        var ts = SqlNames.Quote(TableSchema.TimestampColumn);
        // In order already: COPY keeps the scan's order (preserve_insertion_order, DuckDB's default).
        var orderBy = facts.Ordered ? "" : $" ORDER BY {ts}";
        LastExportSorted = !facts.Ordered;
        RunInTransaction(connection =>
        {
            try
            {
                var dates = facts.DateValues?.ToList();
                if (dates is null)
                {
                    dates = [];
                    using var command = connection.CreateCommand();
                    command.CommandText = $"SELECT DISTINCT {date} FROM ({source}) ORDER BY 1";
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                        dates.Add(reader.GetFieldValue<DateOnly>(0));
                }
                foreach (var day in dates)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var dayText = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                    var relative = $"date={dayText}/part-00000-{Guid.NewGuid():D}-c000.zstd.parquet";
                    var path = Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    var where = dates.Count == 1 && facts.Dates is not null ? "" : $" WHERE {date} = DATE '{dayText}'";
                    var sql = $"COPY (SELECT {_exportColumns} FROM ({source}){where}{orderBy}) "
                              + $"TO {SqlNames.Literal(path)} (FORMAT parquet, {ExportCompression}, ROW_GROUP_SIZE 122880, RETURN_STATS)";
                    var file = CopyOne(connection, sql, day, path, relative, cancellationToken);
                    // Tracked dates are those of the rows taken; a retention filter may leave one of them empty.
                    if (file.Rows == 0)
                        File.Delete(path);
                    else
                        files.Add(file);
                }
            }
            catch
            {
                foreach (var f in files)
                    File.Delete(f.LocalPath);
                throw;
            }
            return 0L;
        }, cancellationToken);
        return files;
    }

    /// <summary>
    /// Runs one <c>COPY … TO parquet (…, RETURN_STATS)</c> and returns its file. <paramref name="omitted"/>: columns the
    /// COPY's select list leaves out because they are null in every row (<see cref="BufferOptions.OmitNullColumns"/>):
    /// their statistics say so (null count = row count, no bounds).
    /// </summary>
    internal ExportedFile CopyOne(DuckDBConnection connection, string sql, DateOnly day, string path, string relative, CancellationToken cancellationToken,
        IEnumerable<string>? omitted = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var cancel = cancellationToken.Register(static c => ((DuckDBCommand)c!).Cancel(), command);
        try
        {
            using var reader = command.ExecuteReader();
            if (!reader.Read())
                throw new BufferException($"COPY of {Id} for {day:yyyy-MM-dd} returned no statistics");
            var rows = Convert.ToInt64(reader.GetValue(reader.GetOrdinal("count")), CultureInfo.InvariantCulture);
            var bytes = Convert.ToInt64(reader.GetValue(reader.GetOrdinal("file_size_bytes")), CultureInfo.InvariantCulture);
            var statsOrdinal = reader.GetOrdinal("column_statistics");
            var stats = ParquetStatsParser.Parse(reader.IsDBNull(statsOrdinal) ? null : reader.GetValue(statsOrdinal), Schema, _db.Options.MaxStatsStringLength);
            var onDisk = new FileInfo(path).Length;
            if (onDisk != bytes)
                throw new BufferException($"COPY of {Id} reported {bytes} bytes but {path} holds {onDisk}");
            foreach (var name in omitted ?? [])
                stats[name] = new ColumnStats(rows, null, null);
            return new ExportedFile(day, path, relative, rows, bytes, stats);
        }
        catch
        {
            if (File.Exists(path))
                File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Removes the rows with LSN at or below <paramref name="lsn"/> (after their flush committed) and releases their
    /// memory reservations. Generations holding only such rows are DETACHed, which frees their memory at once (or
    /// when the last snapshot reading them closes); a generation straddling the LSN gets a DELETE. Returns the rows removed.
    /// </summary>
    public async Task<long> DeleteUpToAsync(long lsn, CancellationToken cancellationToken)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        long removed;
        try
        {
            ThrowIfDisposed();
            // Seal the generation taking appends if it holds such rows: it must not be detached under the appender,
            // and only a sealed generation gets compressed, which is what gives partly deleted rows' memory back.
            await SealActiveIfAsync(g => !g.IsEmpty && g.MinLsn <= lsn, cancellationToken).ConfigureAwait(false);
            // Under the append lock no move of the tail into DuckDB is half done: the rows it moved are in the
            // generations chosen below, and the rest leave the tail in the same commit as the generations' rows.
            await _appendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                List<BufferGeneration> whole, partial;
                lock (_gate)
                {
                    whole = _generations.Where(g => !g.IsEmpty && g.Sealed && g.MaxLsn <= lsn).ToList();
                    // An unsealed generation with such rows got them from a move of the tail after the seal above.
                    partial = _generations.Where(g => !g.IsEmpty && g.MinLsn <= lsn && (g.MaxLsn > lsn || !g.Sealed)).ToList();
                }
                removed = await Task.Run(() => ApplyToGenerations(partial, g => $"DELETE FROM {g.QuotedTable} WHERE {QuotedLsn} <= {lsn}", null, (g, n) =>
                {
                    g.Rows -= n;
                    g.MinLsn = lsn + 1;
                    g.Compressed = false;
                }, onCommitted: () =>
                {
                    // Still under the generation lock, together with the partial deletes' commits.
                    var total = DropTailUpTo(lsn);
                    foreach (var g in whole)
                    {
                        total += g.Rows;
                        _generations.Remove(g);
                        g.Dropped = true;
                    }
                    long seen;
                    while (lsn > (seen = Interlocked.Read(ref _deletedUpTo)) && Interlocked.CompareExchange(ref _deletedUpTo, lsn, seen) != seen)
                    {
                    }
                    if (lsn >= _pendingFlushLsn)
                        _pendingFlushLsn = -1;
                    return total;
                }), CancellationToken.None).ConfigureAwait(false);
                DropGenerations(whole);
            }
            finally
            {
                _appendLock.Release();
            }
        }
        finally
        {
            _maintenanceLock.Release();
        }
        _reservations.ReleaseUpTo(lsn);
        if (_db.Options.CheckpointAfterDelete)
            RequestCompression();
        return removed;
    }
}
