using System.Text.Json;
using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.DuckDb;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>DML: DELETE and UPDATE of buffered rows, atomic across generations.</summary>
public sealed partial class BufferTable
{
    /// <summary>Applies <c>DELETE … WHERE (<paramref name="predicateSql"/>)</c> to the buffered rows atomically; returns the rows deleted.</summary>
    /// <exception cref="ArgumentException">The predicate is not a single SQL expression.</exception>
    /// <exception cref="BufferException">DuckDB rejected the statement; nothing changed.</exception>
    /// <param name="predicateSql">The predicate.</param>
    /// <param name="cancellationToken">Cancels before anything is applied.</param>
    /// <param name="onCommitted">Runs under the generation lock right after the commit: no snapshot opens in between.</param>
    public async Task<long> ApplyDeleteAsync(string predicateSql, CancellationToken cancellationToken, Action? onCommitted = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predicateSql);
        var deleted = await RunDmlAsync(t => $"SELECT 1 FROM {t} WHERE ({predicateSql})", t => $"DELETE FROM {t} WHERE ({predicateSql})", (g, n) =>
        {
            g.Rows -= n;
            g.Compressed = false;
        }, cancellationToken, onCommitted).ConfigureAwait(false);
        if (deleted > 0 && _db.Options.CheckpointAfterDelete)
            RequestCompression();
        return deleted;
    }

    /// <summary>
    /// Applies <c>UPDATE … SET col = (expr), … WHERE (<paramref name="predicateSql"/>)</c> to the buffered rows
    /// atomically; returns the rows updated.
    /// </summary>
    /// <exception cref="ArgumentException">No assignments, an unknown column, or SQL text that is not a single expression.</exception>
    /// <exception cref="BufferException">DuckDB rejected the statement; nothing changed.</exception>
    /// <param name="predicateSql">The predicate.</param>
    /// <param name="assignments">Column name to SQL expression.</param>
    /// <param name="cancellationToken">Cancels before anything is applied.</param>
    /// <param name="onCommitted">Runs under the generation lock right after the commit: no snapshot opens in between.</param>
    public async Task<long> ApplyUpdateAsync(string predicateSql, IReadOnlyList<KeyValuePair<string, string>> assignments, CancellationToken cancellationToken,
        Action? onCommitted = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predicateSql);
        ArgumentNullException.ThrowIfNull(assignments);
        if (assignments.Count == 0)
            throw new ArgumentException("an UPDATE needs at least one assignment", nameof(assignments));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (column, expression) in assignments)
        {
            if (Schema.Find(column) is null)
                throw new ArgumentException($"table '{Schema.Name}' has no column '{column}'", nameof(assignments));
            if (!seen.Add(column))
                throw new ArgumentException($"column '{column}' is assigned twice", nameof(assignments));
            ArgumentException.ThrowIfNullOrWhiteSpace(expression, nameof(assignments));
        }
        var set = string.Join(", ", assignments.Select(a => $"{SqlNames.Quote(a.Key)} = ({a.Value})"));
        var check = string.Join(", ", assignments.Select(a => $"({a.Value})"));
        var updated = await RunDmlAsync(t => $"SELECT {check} FROM {t} WHERE ({predicateSql})", t => $"UPDATE {t} SET {set} WHERE ({predicateSql})",
            (g, _) => g.Compressed = false, cancellationToken, onCommitted).ConfigureAwait(false);
        if (updated > 0 && _db.Options.CheckpointAfterDelete)
            RequestCompression();
        return updated;
    }

    private async Task<long> RunDmlAsync(Func<string, string> check, Func<string, string> dml, Action<BufferGeneration, long> onApplied, CancellationToken cancellationToken,
        Action? onCommitted)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            await DrainTailAsync().ConfigureAwait(false); // the statement applies to every row logged before it
            List<BufferGeneration> targets;
            lock (_gate)
                targets = _generations.ToList();
            // Parse check on one generation (all have the same shape) before touching any data.
            await Task.Run(() => RunInTransaction(connection =>
            {
                CheckSingleSelect(connection, check(targets[^1].QuotedTable));
                return 0L;
            }, cancellationToken), cancellationToken).ConfigureAwait(false);
            return await Task.Run(() => ApplyToGenerations(targets, g => dml(g.QuotedTable), cancellationToken, onApplied,
                onCommitted: onCommitted is null ? null : () =>
                {
                    onCommitted();
                    return 0L;
                }), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    /// <summary>
    /// Runs a statement (<paramref name="statement"/> of the generation) on each generation in its own
    /// transaction, on a connection of its own; DuckDB cannot write two attached databases in one transaction. Only
    /// when every one succeeded are all committed, together, under the generation lock, so that no snapshot opens
    /// between them; a failure rolls every one back. Returns the rows affected (plus what <paramref name="onCommitted"/> adds).
    /// </summary>
    private long ApplyToGenerations(List<BufferGeneration> targets, Func<BufferGeneration, string> statement, CancellationToken? cancellationToken,
        Action<BufferGeneration, long> onApplied, Func<long>? onCommitted)
    {
        var pool = _db.Connections;
        var open = new List<(BufferGeneration Generation, DuckDBConnection Connection, long Rows)>();
        var committed = false;
        try
        {
            foreach (var g in targets)
            {
                cancellationToken?.ThrowIfCancellationRequested();
                var connection = pool.Rent();
                try
                {
                    DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
                }
                catch
                {
                    pool.Return(connection, false);
                    throw;
                }
                open.Add((g, connection, 0));
                var rows = DuckDbCommands.Execute(connection, statement(g));
                open[^1] = (g, connection, rows);
            }
            long total = 0;
            lock (_gate)
            {
                foreach (var (g, connection, rows) in open)
                {
                    DuckDbCommands.Execute(connection, "COMMIT");
                    onApplied(g, rows);
                    total += rows;
                }
                committed = true;
                if (onCommitted is not null)
                    total += onCommitted();
            }
            return total;
        }
        catch (DuckDBException e)
        {
            throw new BufferException($"buffer of {Id}: {e.Message}" + (committed || open.Count == 0 ? "" : " (nothing was changed)"), e);
        }
        finally
        {
            foreach (var (_, connection, _) in open)
                pool.Return(connection, committed || DuckDbCommands.TryRollback(connection));
        }
    }

    /// <summary>
    /// Makes sure caller-given SQL fragments, placed in a SELECT exactly as they will be placed in the DML, parse as
    /// one SELECT statement: a fragment cannot smuggle a second statement in.
    /// </summary>
    internal static void CheckSingleSelect(DuckDBConnection connection, string select)
    {
        var json = DuckDbCommands.Scalar(connection, $"SELECT json_serialize_sql({SqlNames.Literal(select)})") as string
                   ?? throw new ArgumentException("the SQL fragments could not be parsed");
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.True)
        {
            var message = root.TryGetProperty("error_message", out var m) ? m.GetString() : "parse error";
            throw new ArgumentException($"invalid SQL expression: {message}");
        }
        if (!root.TryGetProperty("statements", out var statements) || statements.GetArrayLength() != 1)
            throw new ArgumentException("the SQL fragments must form exactly one statement");
    }

    /// <summary>Runs <paramref name="work"/> in BEGIN/COMMIT on a pooled connection; rolls back on any failure.</summary>
    private long RunInTransaction(Func<DuckDBConnection, long> work, CancellationToken cancellationToken)
    {
        var pool = _db.Connections;
        var connection = pool.Rent();
        var reusable = true;
        try
        {
            DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = work(connection);
                DuckDbCommands.Execute(connection, "COMMIT");
                return result;
            }
            catch (Exception e)
            {
                reusable = DuckDbCommands.TryRollback(connection);
                if (e is DuckDBException)
                    throw new BufferException($"buffer of {Id}: {e.Message}", e);
                throw;
            }
        }
        catch (DuckDBException e)
        {
            reusable = false;
            throw new BufferException($"buffer of {Id}: {e.Message}", e);
        }
        finally
        {
            pool.Return(connection, reusable);
        }
    }
}
