using System.Collections.Concurrent;
using Apache.Arrow;
using Microsoft.Extensions.Logging;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Flush;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Transactions;

namespace TimeFusion.Engine;

/// <summary>
/// Write transactions (COPY today; session BEGIN … COMMIT later): begin, stage chunks, commit or abort, with the
/// transaction id chosen by the caller. Staged rows are validated as they arrive, never visible to queries, and held in
/// memory only up to the spill threshold (they are written to unreferenced Parquet files beyond it), so a transaction
/// may be many times the memory budget. The commit is one Delta commit: all of the transaction appears at once or,
/// after a crash anywhere before it, nothing does. See <c>Transactions/README.md</c>.
/// </summary>
public sealed partial class TableEngine
{
    private readonly ConcurrentDictionary<Guid, StagedTransaction> _transactions = new();

    /// <summary>Transactions open on this table.</summary>
    public int OpenTransactions => _transactions.Count;

    /// <summary>Bytes staged rows hold in memory now (they are spilled to Parquet past the spill threshold).</summary>
    public long StagedBytes => _transactions.Values.Sum(t => t.Staging.ReservedBytes);

    /// <summary>Staged bytes beyond which a transaction's rows are written to Parquet and leave memory.</summary>
    public long SpillThresholdBytes =>
        Math.Max(64L << 10, Math.Min(_services.Options.Flush.MaxBufferedBytes, _services.Buffer.Budget.HardLimitBytes / 8));

    /// <summary>Opens transaction <paramref name="transaction"/>; beginning one that is already open is an error.</summary>
    public async Task BeginTransactionAsync(Guid transaction, CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        // Checked first: creating the staging table again would retire the open one's.
        if (_transactions.ContainsKey(transaction)) throw new InvalidOperationException($"transaction {transaction:N} is already open on {Id}");
        // The staging table gets a table id of its own: it shares the buffer database, never the table's rows.
        var staging = await BufferTable.CreateAsync(_services.Buffer, StagingId(transaction, 0), Schema, cancellationToken);
        if (!_transactions.TryAdd(transaction, new StagedTransaction(transaction, staging)))
        {
            await staging.DisposeAsync();
            throw new InvalidOperationException($"transaction {transaction:N} is already open on {Id}");
        }
    }

    /// <summary>
    /// Validates <paramref name="batch"/> against the table (rejecting it whole) and stages it in the transaction; spills
    /// the staged rows to Parquet once they pass <see cref="SpillThresholdBytes"/>. Returns the rows staged so far.
    /// </summary>
    /// <exception cref="TransactionNotFoundException">The transaction is not open here (retry the whole statement).</exception>
    /// <exception cref="BatchRejectedException">A row does not fit the table; the transaction stays open (the caller aborts it).</exception>
    public async Task<long> StageAsync(Guid transaction, RecordBatch batch, CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        var txn = Find(transaction);
        var rows = BatchValidator.Validate(batch, Schema, Id.Project, _services.Options.Ingest);
        await txn.Gate.WaitAsync(cancellationToken);
        try
        {
            if (txn.Closed) throw new TransactionNotFoundException(transaction, Id.ToString());
            txn.Touch();
            var reservation = await _services.Buffer.Budget.ReserveAsync(txn.Staging.EstimateBytes(rows.Batch), _services.Buffer.Options.ReserveMaxWait, cancellationToken);
            await txn.Staging.AppendAsync(rows, ++txn.Sequence, reservation, cancellationToken);
            txn.Rows += rows.Length;
            if (txn.Staging.ReservedBytes >= SpillThresholdBytes) await StartSpillAsync(txn, cancellationToken);
            txn.Touch();
            return txn.Rows;
        }
        finally
        {
            txn.Gate.Release();
        }
    }

    /// <summary>
    /// Spills what is still staged (after any spill running) without committing: the commit that follows is then only
    /// the Delta commit. The transaction stays open.
    /// </summary>
    /// <exception cref="TransactionNotFoundException">The transaction is not open here.</exception>
    public async Task PrepareTransactionAsync(Guid transaction, CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        var txn = Find(transaction);
        await txn.Gate.WaitAsync(cancellationToken);
        try
        {
            if (txn.Closed) throw new TransactionNotFoundException(transaction, Id.ToString());
            txn.Touch();
            await WaitForSpillAsync(txn);
            await SpillAsync(txn, txn.Staging, txn.Sequence, cancellationToken);
            txn.Touch();
        }
        finally
        {
            txn.Gate.Release();
        }
    }

    /// <summary>
    /// Commits: spills what is still staged, then adds every file of the transaction to the table in one Delta commit
    /// (under the flush lock, so no flush, DML or maintenance commit interleaves). Returns the rows committed. A failed
    /// commit closes the transaction too; its files are left for VACUUM (a commit whose outcome is unknown may have landed).
    /// </summary>
    /// <exception cref="TransactionNotFoundException">The transaction is not open here.</exception>
    public async Task<long> CommitTransactionAsync(Guid transaction, CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        var txn = Find(transaction);
        await txn.Gate.WaitAsync(cancellationToken);
        try
        {
            if (txn.Closed) throw new TransactionNotFoundException(transaction, Id.ToString());
            await WaitForSpillAsync(txn);
            await SpillAsync(txn, txn.Staging, txn.Sequence, cancellationToken);
            txn.Closed = true;
            if (txn.Spilled.Count > 0) await CommitSpilledAsync(txn);
            _logger.LogInformation("{Table}: transaction {Transaction} committed {Rows} rows in {Files} files", Id, txn.Id.ToString("N"), txn.Rows, txn.Spilled.Count);
            return txn.Rows;
        }
        finally
        {
            _transactions.TryRemove(transaction, out _);
            txn.Gate.Release();
            await txn.Staging.DisposeAsync();
        }
    }

    private async Task CommitSpilledAsync(StagedTransaction txn)
    {
        // Not cancellable once here: the caller learns the outcome, whatever its token says.
        await _flushLock.WaitAsync(CancellationToken.None);
        try
        {
            ThrowIfFaulted();
            DeltaSnapshot current;
            lock (_publishGate) current = _deltaSnapshot;
            DeltaSnapshot committed;
            try
            {
                committed = await _delta.CommitAsync(current, [.. txn.Spilled], "WRITE", CancellationToken.None);
            }
            catch (DeltaCheckpointException e)
            {
                // The version is committed; only the checkpoint after it failed. The next commit retries it.
                _logger.LogWarning(e, "{Table}: checkpoint after Delta version {Version} failed", Id, e.Snapshot.Version);
                committed = e.Snapshot;
            }
            // The WAL watermark (the txn version) is unchanged: these rows never were in the WAL or the buffer.
            lock (_publishGate) _deltaSnapshot = committed;
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>Aborts the transaction: drops its staged rows and deletes its spilled files. Unknown ids are ignored.</summary>
    public async Task AbortTransactionAsync(Guid transaction)
    {
        if (!_transactions.TryGetValue(transaction, out var txn)) return;
        await txn.Gate.WaitAsync(CancellationToken.None);
        try
        {
            if (txn.Closed) return;
            txn.Closed = true;
            _transactions.TryRemove(transaction, out _);
            // A spill still running adds its files to Spilled before uploading them: let it end, then delete them all.
            await txn.SpillCancellation.CancelAsync();
            try
            {
                await WaitForSpillAsync(txn);
            }
            catch (Exception)
            {
                // Its failure is the abort's reason or irrelevant now.
            }
            await txn.Staging.DisposeAsync();
            foreach (var file in txn.Spilled)
            {
                try
                {
                    await _delta.Store.DeleteAsync(_delta.ObjectPath(file.DataPath), CancellationToken.None);
                }
                catch (Exception e)
                {
                    // Referenced by no version: VACUUM removes it later.
                    _logger.LogWarning(e, "{Table}: could not delete file '{File}' of aborted transaction {Transaction}", Id, file.DataPath, txn.Id.ToString("N"));
                }
            }
            _logger.LogInformation("{Table}: transaction {Transaction} aborted ({Rows} rows staged)", Id, txn.Id.ToString("N"), txn.Rows);
        }
        finally
        {
            txn.Gate.Release();
        }
    }

    /// <summary>Aborts every transaction idle for at least <paramref name="idle"/>; returns how many.</summary>
    public async Task<int> AbortIdleTransactionsAsync(TimeSpan idle)
    {
        var count = 0;
        foreach (var txn in _transactions.Values.Where(t => t.Idle >= idle).ToList())
        {
            await AbortTransactionAsync(txn.Id);
            count++;
        }
        return count;
    }

    /// <summary>Aborts every open transaction (the table is closing).</summary>
    public async Task AbortAllTransactionsAsync()
    {
        foreach (var id in _transactions.Keys.ToList()) await AbortTransactionAsync(id);
    }

    /// <summary>Relative paths of files spilled by open transactions: VACUUM must not take them for orphans.</summary>
    private List<string> StagedPaths()
    {
        var paths = new List<string>();
        foreach (var t in _transactions.Values)
        {
            lock (t.Spilled) paths.AddRange(t.Spilled.Select(f => f.DataPath));
        }
        return paths;
    }

    // Each staging table of a transaction has an id of its own: one may be spilling while the next takes rows.
    private TableId StagingId(Guid transaction, int generation) => new(Id.Project, $"{Id.Table}\u0000txn\u0000{transaction:N}\u0000{generation}");

    private StagedTransaction Find(Guid transaction) =>
        _transactions.TryGetValue(transaction, out var txn) ? txn : throw new TransactionNotFoundException(transaction, Id.ToString());

    /// <summary>
    /// Hands the full staging table to a spill that runs beside the next chunks (the COPY's parsing and staging go on
    /// while its Parquet is written), after the previous spill ended: at most one runs per transaction, so the memory a
    /// transaction holds stays within two spill thresholds. A spill's failure fails the next step of the transaction.
    /// </summary>
    private async Task StartSpillAsync(StagedTransaction txn, CancellationToken cancellationToken)
    {
        await WaitForSpillAsync(txn);
        var full = txn.Staging;
        var upTo = txn.Sequence;
        txn.Staging = await BufferTable.CreateAsync(_services.Buffer, StagingId(txn.Id, ++txn.Generation), Schema, cancellationToken);
        var token = txn.SpillCancellation.Token;
        txn.Spilling = Task.Run(() => SpillAsync(txn, full, upTo, token), CancellationToken.None);
    }

    /// <summary>Waits for the transaction's running spill, if any; rethrows its failure.</summary>
    private static async Task WaitForSpillAsync(StagedTransaction txn)
    {
        if (txn.Spilling is not { } spilling) return;
        txn.Spilling = null;
        await spilling;
    }

    /// <summary>
    /// Writes <paramref name="staging"/>'s rows up to <paramref name="upTo"/> to Parquet (one file per date partition),
    /// uploads them and frees their memory. The current staging table is replaced by a fresh one; a detached one is
    /// disposed.
    /// </summary>
    private async Task SpillAsync(StagedTransaction txn, BufferTable staging, long upTo, CancellationToken cancellationToken)
    {
        var detached = !ReferenceEquals(staging, txn.Staging);
        if (staging.RowCount == 0)
        {
            if (detached) await staging.DisposeAsync();
            return;
        }
        var local = Path.Combine(_services.Options.Flush.StagingDirectory, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(local);
        try
        {
            // Rows already past the table's retention are dropped here, as a flush would.
            var files = await staging.ExportParquetAsync(upTo, local, cancellationToken, Maintenance.Retention.KeepFilterSql(RetentionCutoffMicros), background: false);
            var now = DateTimeOffset.UtcNow;
            foreach (var file in files)
            {
                var add = DeltaAddForExport.Create(file, Schema, now);
                // Listed before the upload: an abort racing a failed upload still deletes what may have landed.
                lock (txn.Spilled) txn.Spilled.Add(add);
                await _delta.Store.AdoptFileAsync(_delta.ObjectPath(file.RelativePath), file.LocalPath, cancellationToken);
            }
            // A fresh staging table rather than a DELETE: dropping the old one gives its memory back to the budget at once
            // (deleted rows would count until the next reconciliation, and a fast COPY would wait for it).
            if (!detached)
                txn.Staging = await BufferTable.CreateAsync(_services.Buffer, StagingId(txn.Id, ++txn.Generation), Schema, CancellationToken.None);
            await staging.DisposeAsync();
            // The budget counts dropped rows until it is next reconciled with what DuckDB holds: reconcile now.
            await _services.Buffer.ReconcileMemoryAsync();
        }
        catch when (detached)
        {
            // Nobody else holds a detached table: give its memory back before the failure reaches the transaction.
            await staging.DisposeAsync();
            throw;
        }
        finally
        {
            Directory.Delete(local, recursive: true);
        }
    }
}
