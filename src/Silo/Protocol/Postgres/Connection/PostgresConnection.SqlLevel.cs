using System.Text;
using Microsoft.Extensions.Logging;
using TimeFusion.Silo.Protocol.Postgres.Sql;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>
/// SQL-level prepared statements (<c>PREPARE</c> / <c>EXECUTE</c>; they share the protocol's statement names, as in
/// PostgreSQL) and cursors (<c>DECLARE</c> / <c>FETCH</c> / <c>CLOSE</c>, what psycopg2's named cursors and SQLAlchemy's
/// stream_results send).
/// </summary>
internal sealed partial class PostgresConnection
{
    private const int MaxCursors = 1_000;

    private readonly Dictionary<string, Cursor> _cursors = new(StringComparer.Ordinal);

    /// <summary>PREPARE name [(types)] AS statement.</summary>
    private void PrepareSql(ClassifiedStatement s)
    {
        var name = s.Name!;
        if (_statements.ContainsKey(name))
        {
            throw new PostgresErrorException(SqlState.DuplicatePreparedStatement, $"prepared statement \"{name}\" already exists");
        }
        if (_statements.Count >= MaxPreparedStatements)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, $"too many prepared statements (limit {MaxPreparedStatements} per connection)");
        }
        var body = s.Body!;
        if (body.Kind is StatementKind.Prepare or StatementKind.ExecutePrepared or StatementKind.DeclareCursor or StatementKind.Empty)
        {
            throw new PostgresErrorException(SqlState.SyntaxError, $"cannot prepare {body.Verb} with PREPARE");
        }
        StatementVerbs.RequireKnown(body);
        var hints = s.TypeNames.Select(t => PgTypeNames.Resolve(t)
            ?? throw new PostgresErrorException(SqlState.UndefinedObject, $"type \"{t}\" does not exist")).ToArray<PgType?>();
        _statements[name] = new PreparedStatement(name, body, hints, Math.Max(hints.Length, MaxParameterNumber(body.Sql)));
    }

    /// <summary>EXECUTE name [(arguments)]: the prepared statement and its arguments decoded by its parameter types.</summary>
    private (PreparedStatement Statement, object?[] Parameters) ResolveExecute(ClassifiedStatement s)
    {
        if (!_statements.TryGetValue(s.Name!, out var statement))
        {
            throw new PostgresErrorException(SqlState.InvalidSqlStatementName, $"prepared statement \"{s.Name}\" does not exist");
        }
        if (s.Refusal is { } refusal)
        {
            throw new PostgresErrorException(SqlState.FeatureNotSupported, refusal);
        }
        if (s.Arguments.Count != statement.ParameterCount)
        {
            throw new PostgresErrorException(SqlState.SyntaxError,
                $"wrong number of parameters for prepared statement \"{s.Name}\"") { Detail = $"Expected {statement.ParameterCount} parameters but got {s.Arguments.Count}." };
        }
        var parameters = new object?[s.Arguments.Count];
        for (var i = 0; i < parameters.Length; i++)
        {
            if (s.Arguments[i] is { } text)
            {
                parameters[i] = ParameterDecoder.Decode(statement.ParameterType(i), binary: false, Encoding.UTF8.GetBytes(text), _settings.TimeZone);
            }
        }
        return (statement, parameters);
    }

    /// <summary>DECLARE name CURSOR [WITH HOLD] FOR query: runs the query once; FETCH reads its rows as they come.</summary>
    private async Task DeclareCursorAsync(ClassifiedStatement s, IReadOnlyList<object?> parameters)
    {
        var name = s.Name!;
        if (!s.Hold && _txStatus != TxInBlock)
        {
            throw new PostgresErrorException(SqlState.NoActiveSqlTransaction, "DECLARE CURSOR can only be used in transaction blocks");
        }
        if (_cursors.ContainsKey(name))
        {
            throw new PostgresErrorException(SqlState.DuplicateCursor, $"cursor \"{name}\" already exists");
        }
        if (_cursors.Count >= MaxCursors)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, $"too many open cursors (limit {MaxCursors} per connection)");
        }
        var body = s.Body!;
        if (body.Kind != StatementKind.Other || body.Verb is not ("SELECT" or "WITH" or "VALUES" or "TABLE" or "(" or "FROM"))
        {
            throw new PostgresErrorException(SqlState.SyntaxError, "DECLARE CURSOR needs a query (SELECT, VALUES, TABLE or WITH … SELECT)");
        }
        // The cursor's own cancellation: its rows are read by later FETCHes, long after this statement.
        var cancellation = new StatementCancellation(_stopping);
        try
        {
            cancellation.StartTimer(_settings.StatementTimeout);
            var session = _session!;
            var result = await RunAsync(cancellation, ct => session.ExecuteAsync(body.Backend, parameters, ct)).ConfigureAwait(false);
            cancellation.StopTimer();
            if (!result.HasRows)
            {
                await result.DisposeAsync().ConfigureAwait(false);
                throw new PostgresErrorException(SqlState.SyntaxError, "DECLARE CURSOR needs a query that returns rows");
            }
            var rows = new RowStream(result, CreateEncoders(result.Schema!, _ => false), cancellation.Token);
            _cursors[name] = new Cursor(name, s.Hold, result, rows, cancellation);
        }
        catch
        {
            cancellation.Dispose();
            throw;
        }
    }

    private Cursor FindCursor(string name) => _cursors.TryGetValue(name, out var cursor)
        ? cursor
        : throw new PostgresErrorException(SqlState.InvalidCursorName, $"cursor \"{name}\" does not exist");

    /// <summary>The RowDescription of FETCH from a cursor (Describe of a FETCH statement or portal).</summary>
    private void DescribeFetch(ClassifiedStatement s, Func<int, bool> binary)
    {
        if (s.FetchCount < 0)
        {
            _out.WriteEmptyMessage((byte)'n');
            return;
        }
        var cursor = FindCursor(s.Name!);
        _out.WriteRowDescription(CreateEncoders(cursor.Result.Schema!, binary), ColumnNames(cursor.Result.Schema!));
    }

    /// <summary>FETCH: up to the count of rows from where the cursor stands, then <c>FETCH n</c>.</summary>
    private async Task FetchAsync(ClassifiedStatement s, Func<int, bool>? binary, bool describe)
    {
        if (s.FetchCount < 0)
        {
            throw new PostgresErrorException(SqlState.FeatureNotSupported, "cursors here move forward only (NO SCROLL): use FETCH [NEXT | n | ALL | FORWARD …]");
        }
        var cursor = FindCursor(s.Name!);
        var encoders = CreateEncoders(cursor.Result.Schema!, binary ?? (_ => false));
        if (describe)
        {
            _out.WriteRowDescription(encoders, ColumnNames(cursor.Result.Schema!));
        }
        cursor.Rows.UseEncoders(encoders);
        if (s.FetchCount == 0)
        {
            _out.WriteCommandComplete("FETCH 0");
            return;
        }
        cursor.Cancellation.StartTimer(_settings.StatementTimeout);
        var (count, _) = await SendRowsAsync(cursor.Rows, s.FetchCount == long.MaxValue ? 0 : s.FetchCount, cursor.Cancellation).ConfigureAwait(false);
        cursor.Cancellation.StopTimer();
        _out.WriteCommandComplete($"FETCH {count}");
    }

    /// <summary>CLOSE name | ALL.</summary>
    private async Task CloseCursorAsync(string name)
    {
        if (name == "all")
        {
            await CloseCursorsAsync(_ => true).ConfigureAwait(false);
            return;
        }
        var cursor = FindCursor(name);
        _cursors.Remove(name);
        await cursor.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes the cursors <paramref name="which"/> selects (the end of a block closes those without HOLD).</summary>
    private async Task CloseCursorsAsync(Func<Cursor, bool> which)
    {
        foreach (var cursor in _cursors.Values.Where(which).ToList())
        {
            _cursors.Remove(cursor.Name);
            try
            {
                await cursor.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "closing cursor of connection {ProcessId} failed", ProcessId);
            }
        }
    }
}
