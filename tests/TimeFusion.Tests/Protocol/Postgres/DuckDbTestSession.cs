using System.Text.RegularExpressions;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>One session of <see cref="DuckDbTestBackend"/>: its own DuckDB connection to the shared database.</summary>
internal sealed class DuckDbTestSession(DuckDbTestBackend backend, DuckDBConnection connection) : IPostgresSession
{
    private static readonly HashSet<string> RowVerbs = new(StringComparer.OrdinalIgnoreCase)
    {
        "SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "FROM", "TABLE", "PRAGMA", "EXPLAIN", "SUMMARIZE",
    };

    public async ValueTask<StatementResult> ExecuteAsync(BackendStatement statement, IReadOnlyList<object?> parameters, CancellationToken cancellationToken)
    {
        var sql = statement.Sql;
        backend.Statements.Enqueue(sql);
        if (DuckDbTestBackend.IsForbidden(sql))
        {
            throw new PostgresErrorException(SqlState.InsufficientPrivilege, "permission denied for table forbidden");
        }
        if (sql.Contains("backpressure_please", StringComparison.Ordinal))
        {
            throw new PostgresErrorException(SqlState.OutOfMemory, "memory budget exhausted, retry later") { Hint = "retry" };
        }
        if (sql.Contains("internal_bug_please", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("something the backend did not expect");
        }
        var verb = FirstWord(sql);
        var command = connection.CreateCommand();
        // Npgsql begins with "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED", which DuckDB does not parse.
        command.CommandText = verb.Equals("BEGIN", StringComparison.OrdinalIgnoreCase) ? "BEGIN TRANSACTION" : sql;
        foreach (var p in parameters)
        {
            command.Parameters.Add(new DuckDBParameter(p ?? DBNull.Value));
        }
        var registration = cancellationToken.Register(() => _ = InterruptUntilDoneAsync(command));
        backend.OnStarted(sql);
        try
        {
            if (RowVerbs.Contains(verb) || Regex.IsMatch(sql, @"\bRETURNING\b", RegexOptions.IgnoreCase))
            {
                var stream = await Task.Run(() => command.ExecuteArrowStream(), CancellationToken.None);
                cancellationToken.ThrowIfCancellationRequested();
                return StatementResult.Rows(stream.Schema, ReadAll(stream, cancellationToken), new Owner(stream, command, registration));
            }
            var affected = await Task.Run(() => command.ExecuteNonQuery(), CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            await registration.DisposeAsync();
            MarkDisposed(command);
            return verb.ToUpperInvariant() switch
            {
                "INSERT" or "UPDATE" or "DELETE" or "MERGE" => StatementResult.Affected(verb, affected),
                "CREATE" or "DROP" or "ALTER" => StatementResult.Command(TwoWords(sql)),
                "START" => StatementResult.Command("START TRANSACTION"),
                "END" => StatementResult.Command("COMMIT"),
                "ABORT" => StatementResult.Command("ROLLBACK"),
                _ => StatementResult.Command(verb.ToUpperInvariant()),
            };
        }
        catch (Exception e)
        {
            await registration.DisposeAsync();
            MarkDisposed(command);
            throw DuckDbTestBackend.MapError(e);
        }
    }

    /// <summary>
    /// DuckDB forgets an interrupt that arrives before its query starts, so keep interrupting until the command
    /// is disposed (polling a condition, bounded by the command's lifetime and a deadline).
    /// </summary>
    private static async Task InterruptUntilDoneAsync(DuckDBCommand command)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                command.Cancel();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (command.Connection is null || command.Connection.State != System.Data.ConnectionState.Open)
            {
                return;
            }
            await Task.Delay(50);
            if (Disposed(command))
            {
                return;
            }
        }
    }

    private static bool Disposed(DuckDBCommand command) => DisposedCommands.TryGetValue(command, out _);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DuckDBCommand, object> DisposedCommands = new();

    private static void MarkDisposed(DuckDBCommand command)
    {
        DisposedCommands.AddOrUpdate(command, new object());
        command.Dispose();
    }

    private static async IAsyncEnumerable<RecordBatch> ReadAll(IArrowArrayStream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            RecordBatch? batch;
            try
            {
                batch = await stream.ReadNextRecordBatchAsync(cancellationToken);
            }
            catch (Exception e)
            {
                throw DuckDbTestBackend.MapError(e);
            }
            if (batch is null)
            {
                yield break;
            }
            yield return batch;
        }
    }

    public ValueTask<StatementDescription> DescribeAsync(BackendStatement statement, IReadOnlyList<PgType?> parameterTypeHints, CancellationToken cancellationToken)
    {
        var sql = statement.Sql;
        backend.Statements.Enqueue("DESCRIBE: " + sql);
        if (DuckDbTestBackend.IsForbidden(sql))
        {
            throw new PostgresErrorException(SqlState.InsufficientPrivilege, "permission denied for table forbidden");
        }
        var types = ParameterTypes(sql);
        Schema? schema = null;
        var verb = FirstWord(sql);
        if (RowVerbs.Contains(verb) && (verb.Equals("SELECT", StringComparison.OrdinalIgnoreCase) || verb.Equals("WITH", StringComparison.OrdinalIgnoreCase)))
        {
            try
            {
                using var command = connection.CreateCommand();
                command.CommandText = $"SELECT * FROM ({sql}) LIMIT 0";
                for (var i = 0; i < types.Count; i++)
                {
                    command.Parameters.Add(new DuckDBParameter(DBNull.Value));
                }
                using var stream = command.ExecuteArrowStream();
                schema = stream.Schema;
            }
            catch (Exception e)
            {
                throw DuckDbTestBackend.MapError(e);
            }
        }
        return ValueTask.FromResult(new StatementDescription(types, schema));
    }

    private List<PgType> ParameterTypes(string sql)
    {
        var result = new List<PgType>();
        var state = NativeMethods.PreparedStatements.DuckDBPrepare(connection.NativeConnection, sql, out var statement);
        using (statement)
        {
            if (state != DuckDBState.Success)
            {
                throw DuckDbTestBackend.MapError(new InvalidOperationException(NativeMethods.PreparedStatements.DuckDBPrepareError(statement)));
            }
            var count = NativeMethods.PreparedStatements.DuckDBParams(statement);
            for (var i = 1; i <= count; i++)
            {
                using var logical = NativeMethods.PreparedStatements.DuckDBParamLogicalType(statement, i);
                var id = NativeMethods.LogicalType.DuckDBGetTypeId(logical);
                result.Add(id switch
                {
                    DuckDBType.Boolean => PgType.Bool,
                    DuckDBType.TinyInt or DuckDBType.SmallInt => PgType.Int2,
                    DuckDBType.Integer => PgType.Int4,
                    DuckDBType.BigInt => PgType.Int8,
                    DuckDBType.Float => PgType.Float4,
                    DuckDBType.Double => PgType.Float8,
                    DuckDBType.Decimal => PgType.Numeric,
                    DuckDBType.Date => PgType.Date,
                    DuckDBType.Timestamp => PgType.Timestamp,
                    DuckDBType.TimestampTz => PgType.Timestamptz,
                    DuckDBType.Uuid => PgType.Uuid,
                    DuckDBType.Blob => PgType.Bytea,
                    _ => PgType.Text,
                });
            }
        }
        return result;
    }

    public async ValueTask<CopyTarget> DescribeCopyTargetAsync(string table, IReadOnlyList<string>? columns, CancellationToken cancellationToken)
    {
        backend.Statements.Enqueue($"COPY TARGET: {table}");
        if (DuckDbTestBackend.IsForbidden(table))
        {
            throw new PostgresErrorException(SqlState.InsufficientPrivilege, "permission denied for table forbidden");
        }
        var list = columns is null ? "*" : string.Join(", ", columns.Select(c => "\"" + c.Replace("\"", "\"\"") + "\""));
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {list} FROM {table} LIMIT 0";
            using var stream = await Task.Run(() => command.ExecuteArrowStream(), cancellationToken);
            return new CopyTarget(table, stream.Schema);
        }
        catch (Exception e)
        {
            throw DuckDbTestBackend.MapError(e);
        }
    }

    public async ValueTask<long> CopyInAsync(CopyTarget target, IAsyncEnumerable<RecordBatch> batches, CancellationToken cancellationToken)
    {
        // Stage into a temporary table with exactly the COPY columns, then insert: all or nothing.
        var stage = "copy_stage_" + Guid.NewGuid().ToString("N");
        var columns = string.Join(", ", target.Schema.FieldsList.Select(f => "\"" + f.Name.Replace("\"", "\"\"") + "\""));
        Exec($"CREATE TEMP TABLE {stage} AS SELECT {columns} FROM {target.Table} LIMIT 0");
        long rows = 0;
        try
        {
            using (var appender = connection.CreateAppender(stage))
            {
                await foreach (var batch in batches.WithCancellation(cancellationToken))
                {
                    using (batch)
                    {
                        DuckDbArrowAppend.Append(appender, batch);
                        rows += batch.Length;
                    }
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
            Exec($"INSERT INTO {target.Table} ({columns}) SELECT * FROM {stage}");
            return rows;
        }
        finally
        {
            Exec($"DROP TABLE IF EXISTS {stage}");
        }
    }

    private void Exec(string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        try
        {
            cmd.ExecuteNonQuery();
        }
        catch (Exception e)
        {
            throw DuckDbTestBackend.MapError(e);
        }
    }

    public ValueTask DisposeAsync()
    {
        connection.Dispose();
        Interlocked.Decrement(ref backend._openSessions);
        return ValueTask.CompletedTask;
    }

    private static string FirstWord(string sql)
    {
        var m = Regex.Match(sql, @"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*\(*\s*([A-Za-z]+)", RegexOptions.Singleline);
        return m.Success ? m.Groups[1].Value : "";
    }

    private static string TwoWords(string sql)
    {
        var words = Regex.Matches(sql, "[A-Za-z]+").Select(m => m.Value.ToUpperInvariant()).Take(3).ToList();
        if (words.Count >= 3 && words[1] is "TEMP" or "TEMPORARY" or "OR")
        {
            return words[0] + " " + words[^1];
        }
        return string.Join(' ', words.Take(2));
    }

    private sealed class Owner(IArrowArrayStream stream, DuckDBCommand command, CancellationTokenRegistration registration) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await registration.DisposeAsync();
            stream.Dispose();
            MarkDisposed(command);
        }
    }
}
