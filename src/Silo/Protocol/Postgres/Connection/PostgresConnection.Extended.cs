using TimeFusion.Silo.Protocol.Postgres.Session;
using TimeFusion.Silo.Protocol.Postgres.Sql;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Sql;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

internal sealed partial class PostgresConnection
{
    /// <summary>Parse, Bind, Describe, Execute, Close: an error is reported and later messages are skipped until Sync.</summary>
    private async Task ExtendedAsync(FrontendMessage message)
    {
        try
        {
            switch ((char)message.Type)
            {
                case 'P':
                    Parse(message.Body);
                    break;
                case 'B':
                    await BindAsync(message.BodyMemory).ConfigureAwait(false);
                    break;
                case 'D':
                {
                    var (kind, name) = ReadKindAndName(message.Body);
                    await DescribeAsync(kind, name).ConfigureAwait(false);
                    break;
                }
                case 'E':
                {
                    var (name, maxRows) = ReadExecute(message.Body);
                    await ExecuteAsync(name, maxRows).ConfigureAwait(false);
                    break;
                }
                case 'C':
                {
                    var (kind, name) = ReadKindAndName(message.Body);
                    await CloseAsync(kind, name).ConfigureAwait(false);
                    break;
                }
            }
        }
        catch (Exception e) when (e is not ClientGoneException)
        {
            var cancellation = _failedCancellation;
            _failedCancellation = null;
            await ReportErrorAsync(e, cancellation, extended: true).ConfigureAwait(false);
        }
    }

    // The cancellation of the statement whose failure is being reported (so 57014 can say why).
    private StatementCancellation? _failedCancellation;

    // Per-connection caps: a client cannot grow server memory without bound by naming statements and portals.
    private const int MaxPreparedStatements = 10_000;
    private const int MaxPortals = 1_000;

    // An implicit transaction of the extended protocol is open: INSERTs executed since the last Sync, outside a block.
    private bool _implicitBlock;

    private async Task SyncAsync()
    {
        var failed = _skipUntilSync;
        _skipUntilSync = false;
        if (_implicitBlock)
        {
            // The messages up to Sync are one implicit transaction, as in PostgreSQL: their INSERTs land now, or none.
            _implicitBlock = false;
            using var cancellation = new StatementCancellation(_stopping);
            try
            {
                await RunImplicitTransactionStatementAsync(failed ? "ROLLBACK" : "COMMIT", cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not ClientGoneException)
            {
                await ReportErrorAsync(e, cancellation, extended: false).ConfigureAwait(false);
            }
        }
        if (_txStatus == TxIdle)
        {
            await ClosePortalsAsync().ConfigureAwait(false);
            await CloseCursorsAsync(c => !c.Hold).ConfigureAwait(false);
        }
        WriteReadyForQuery();
        await FlushAsync().ConfigureAwait(false);
    }

    private void Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgBodyReader(body);
        var name = reader.ReadCString();
        var sql = reader.ReadCString();
        var count = reader.ReadInt16();
        if (count < 0)
        {
            throw new PostgresErrorException(SqlState.ProtocolViolation, "invalid parameter count");
        }
        var hints = new PgType?[count];
        for (var i = 0; i < count; i++)
        {
            var oid = (uint)reader.ReadInt32();
            hints[i] = oid == 0 ? null : PgType.FromOid(oid) ?? PgType.Unknown;
        }
        reader.ExpectEnd();
        if (name.Length > 0 && _statements.ContainsKey(name))
        {
            throw new PostgresErrorException(SqlState.DuplicatePreparedStatement, $"prepared statement \"{name}\" already exists");
        }
        if (name.Length > 0 && _statements.Count >= MaxPreparedStatements)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, $"too many prepared statements (limit {MaxPreparedStatements} per connection)");
        }
        var statements = SqlTokenizer.SplitStatements(sql, SqlTokenizerMode.Lenient);
        if (statements.Count > 1)
        {
            throw new PostgresErrorException(SqlState.SyntaxError, "cannot insert multiple commands into a prepared statement");
        }
        var classified = statements.Count == 0
            ? new ClassifiedStatement { Kind = StatementKind.Empty, Sql = "" }
            : StatementClassifier.Classify(statements[0]);
        ThrowIfTransactionAborted(classified);
        StatementVerbs.RequireKnown(classified);
        // PREPARE's $n belong to the statement it prepares, not to PREPARE itself.
        var parameterCount = classified.Kind == StatementKind.Prepare ? count : Math.Max(count, MaxParameterNumber(classified.Sql));
        _statements[name] = new PreparedStatement(name, classified, hints, parameterCount);
        _out.WriteEmptyMessage((byte)'1');
    }

    private static int MaxParameterNumber(string sql)
    {
        var max = 0;
        var pos = 0;
        while (SqlTokenizer.Next(sql, ref pos, SqlTokenizerMode.Lenient, out var token))
        {
            if (!token.IsPositionalParameter(sql))
            {
                continue;
            }
            // Bind carries at most 32767 values (an int16 count): a larger $n can never be bound.
            if (!int.TryParse(sql.AsSpan(token.Start + 1, token.End - token.Start - 1), out var n) || n > short.MaxValue)
            {
                throw new PostgresErrorException(SqlState.ProgramLimitExceeded, $"parameter {sql[token.Start..token.End]} is out of range (at most ${short.MaxValue})");
            }
            max = Math.Max(max, n);
        }
        return max;
    }

    private async Task BindAsync(ReadOnlyMemory<byte> bodyMemory)
    {
        string portalName;
        string statementName;
        short[] paramFormats;
        (int Offset, int Length)[] values;
        short[] resultFormats;
        {
            var reader = new PgBodyReader(bodyMemory.Span);
            portalName = reader.ReadCString();
            statementName = reader.ReadCString();
            paramFormats = ReadInt16Array(ref reader);
            var count = reader.ReadInt16();
            if (count < 0)
            {
                throw new PostgresErrorException(SqlState.ProtocolViolation, "invalid parameter count");
            }
            values = count == 0 ? [] : new (int, int)[count];
            for (var i = 0; i < count; i++)
            {
                var length = reader.ReadInt32();
                var offset = bodyMemory.Length - reader.Remaining;
                if (length >= 0)
                {
                    reader.ReadBytes(length);
                }
                values[i] = (offset, length);
            }
            resultFormats = ReadInt16Array(ref reader);
            reader.ExpectEnd();
        }
        if (!_statements.TryGetValue(statementName, out var statement))
        {
            throw new PostgresErrorException(SqlState.InvalidSqlStatementName, $"prepared statement \"{statementName}\" does not exist");
        }
        ThrowIfTransactionAborted(statement.Statement);
        if (values.Length != statement.ParameterCount)
        {
            throw new PostgresErrorException(SqlState.ProtocolViolation,
                $"bind message supplies {values.Length} parameters, but prepared statement \"{statementName}\" requires {statement.ParameterCount}");
        }
        if (paramFormats.Length > 1 && paramFormats.Length != values.Length)
        {
            throw new PostgresErrorException(SqlState.ProtocolViolation,
                $"bind message has {paramFormats.Length} parameter formats but {values.Length} parameters");
        }
        ThrowIfUnsupportedFormat(paramFormats);
        ThrowIfUnsupportedFormat(resultFormats);
        if (portalName.Length > 0 && _portals.ContainsKey(portalName))
        {
            throw new PostgresErrorException(SqlState.DuplicateCursor, $"portal \"{portalName}\" already exists");
        }
        if (portalName.Length > 0 && _portals.Count >= MaxPortals)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, $"too many open portals (limit {MaxPortals} per connection)");
        }
        // Binary parameters of a type the client did not declare need the backend's description to decode.
        var types = statement.ParameterTypes();
        var anyBinaryUntyped = false;
        for (var i = 0; i < values.Length; i++)
        {
            anyBinaryUntyped |= BoundParameters.IsBinary(paramFormats, i) && values[i].Length >= 0 && types[i] is null or { Oid: 705 };
        }
        if (anyBinaryUntyped && statement.Description is null && !HandledHere(statement.Statement))
        {
            using var describeCancellation = new StatementCancellation(_stopping);
            describeCancellation.StartTimer(_settings.StatementTimeout);
            var session = _session!;
            _failedCancellation = describeCancellation;
            statement.Description = await RunAsync(describeCancellation,
                ct => session.DescribeAsync(statement.Statement.Backend, statement.ParameterHints, ct)).ConfigureAwait(false);
            _failedCancellation = null;
            types = statement.ParameterTypes();
        }
        IReadOnlyList<object?> parameters = BoundParameters.Decode(bodyMemory.Span, values, paramFormats, types, _settings.TimeZone);
        if (statement.Statement.Kind == StatementKind.ExecutePrepared)
        {
            // EXECUTE q(…) through the extended protocol: the portal runs q itself with EXECUTE's arguments.
            (statement, parameters) = ResolveExecute(statement.Statement);
        }
        if (_portals.Remove(portalName, out var previous))
        {
            await DisposeQuietlyAsync(previous).ConfigureAwait(false);
        }
        _portals[portalName] = new Portal(portalName, statement, parameters, resultFormats, new StatementCancellation(_stopping));
        _out.WriteEmptyMessage((byte)'2');
    }

    private static void ThrowIfUnsupportedFormat(short[] formats)
    {
        foreach (var f in formats)
        {
            if (f is not (0 or 1))
            {
                throw new PostgresErrorException(SqlState.ProtocolViolation, $"unsupported format code: {f}");
            }
        }
    }

    private static short[] ReadInt16Array(ref PgBodyReader reader)
    {
        var count = reader.ReadInt16();
        if (count < 0)
        {
            throw new PostgresErrorException(SqlState.ProtocolViolation, "invalid format code count");
        }
        var result = new short[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = reader.ReadInt16();
        }
        return result;
    }

    private static (byte Kind, string Name) ReadKindAndName(ReadOnlySpan<byte> body)
    {
        var reader = new PgBodyReader(body);
        var kind = reader.ReadByte();
        var name = reader.ReadCString();
        reader.ExpectEnd();
        return (kind, name);
    }

    private static (string Name, int MaxRows) ReadExecute(ReadOnlySpan<byte> body)
    {
        var reader = new PgBodyReader(body);
        var name = reader.ReadCString();
        var maxRows = reader.ReadInt32();
        reader.ExpectEnd();
        return (name, maxRows);
    }

    private async Task DescribeAsync(byte kind, string name)
    {
        if (kind == 'S')
        {
            if (!_statements.TryGetValue(name, out var statement))
            {
                throw new PostgresErrorException(SqlState.InvalidSqlStatementName, $"prepared statement \"{name}\" does not exist");
            }
            await DescribeStatementAsync(statement).ConfigureAwait(false);
            return;
        }
        if (kind != 'P')
        {
            throw new PostgresErrorException(SqlState.ProtocolViolation, $"invalid DESCRIBE message subtype {kind}");
        }
        if (!_portals.TryGetValue(name, out var portal))
        {
            throw new PostgresErrorException(SqlState.InvalidCursorName, $"portal \"{name}\" does not exist");
        }
        _failedCancellation = portal.Cancellation;
        await DescribePortalAsync(portal).ConfigureAwait(false);
        _failedCancellation = null;
    }

    private async Task DescribeStatementAsync(PreparedStatement statement)
    {
        var s = statement.Statement;
        if (HandledHere(s))
        {
            _out.WriteParameterDescription([]);
            if (s.Kind == StatementKind.Show && (s.Name == "all" || SessionSettings.Handles(s.Name!)))
            {
                WriteShowDescription(s.Name!, _ => false);
            }
            else if (s.Kind == StatementKind.Fetch)
            {
                DescribeFetch(s, _ => false);
            }
            else
            {
                _out.WriteEmptyMessage((byte)'n');
            }
            return;
        }
        if (statement.Description is null)
        {
            using var cancellation = new StatementCancellation(_stopping);
            cancellation.StartTimer(_settings.StatementTimeout);
            var session = _session!;
            _failedCancellation = cancellation;
            statement.Description = await RunAsync(cancellation, ct => session.DescribeAsync(s.Backend, statement.ParameterHints, ct)).ConfigureAwait(false);
            _failedCancellation = null;
        }
        var description = statement.Description;
        var types = new PgType[statement.ParameterCount];
        for (var i = 0; i < types.Length; i++)
        {
            types[i] = statement.ParameterType(i) ?? PgType.Text;
        }
        _out.WriteParameterDescription(types);
        if (description.ResultSchema is { } schema)
        {
            var encoders = CreateEncoders(schema, _ => false);
            _out.WriteRowDescription(encoders, ColumnNames(schema));
        }
        else
        {
            _out.WriteEmptyMessage((byte)'n');
        }
    }

    /// <summary>Whether the protocol layer answers the statement itself (otherwise the backend runs it).</summary>
    private static bool HandledHere(ClassifiedStatement s) => s.Kind switch
    {
        StatementKind.Other => false,
        StatementKind.Set => SessionSettings.Handles(s.Name!),
        StatementKind.Reset or StatementKind.Show => s.Name == "all" || SessionSettings.Handles(s.Name!),
        _ => true,
    };

    private void WriteShowDescription(string name, Func<int, bool> binary)
    {
        if (name == "all")
        {
            _out.WriteRowDescription(["name", "setting", "description"], [PgType.Text, PgType.Text, PgType.Text], binary);
        }
        else
        {
            _out.WriteRowDescription([name.ToLowerInvariant()], [PgType.Text], binary);
        }
    }

    /// <summary>
    /// Describe of a portal: a row-returning statement is started here so that the RowDescription is the
    /// result's real schema (Execute follows in the same pipeline in every driver).
    /// </summary>
    private async Task DescribePortalAsync(Portal portal)
    {
        var s = portal.Statement.Statement;
        if (s.Kind == StatementKind.Show && (s.Name == "all" || SessionSettings.Handles(s.Name!)))
        {
            WriteShowDescription(s.Name!, portal.IsBinary);
            return;
        }
        if (s.Kind == StatementKind.Fetch)
        {
            DescribeFetch(s, portal.IsBinary);
            return;
        }
        if (HandledHere(s))
        {
            _out.WriteEmptyMessage((byte)'n');
            return;
        }
        if (portal.CompletedTag is null)
        {
            await StartPortalAsync(portal).ConfigureAwait(false);
        }
        if (portal.Rows is { } rows && portal.Result?.Schema is { } schema)
        {
            _out.WriteRowDescription(rows.Encoders, ColumnNames(schema));
        }
        else
        {
            _out.WriteEmptyMessage((byte)'n');
        }
    }

    /// <summary>Executes the portal's statement in the backend, once.</summary>
    private async Task StartPortalAsync(Portal portal)
    {
        if (portal.Result is not null)
        {
            return;
        }
        BeginActivity(portal.Statement.Statement.Sql);
        await ImplicitBlockBeforeAsync(portal.Statement.Statement, portal.Cancellation).ConfigureAwait(false);
        var session = _session!;
        var backend = BackendFor(portal.Statement.Statement);
        portal.Cancellation.StartTimer(_settings.StatementTimeout);
        try
        {
            var result = await RunAsync(portal.Cancellation,
                ct => session.ExecuteAsync(backend, portal.Parameters, ct)).ConfigureAwait(false);
            portal.Result = result;
            if (result.HasRows)
            {
                var encoders = CreateEncoders(result.Schema!, portal.IsBinary);
                if (portal.ResultFormats.Length > 1 && portal.ResultFormats.Length != encoders.Length)
                {
                    throw new PostgresErrorException(SqlState.ProtocolViolation,
                        $"bind message has {portal.ResultFormats.Length} result formats but query has {encoders.Length} columns");
                }
                CheckDescribedTypes(portal.Statement, encoders);
                portal.Rows = new RowStream(result, encoders, portal.Cancellation.Token);
            }
            else
            {
                var tag = result.CommandTag ?? portal.Statement.Statement.Verb;
                portal.CompletedTag = tag;
                UpdateTransactionStatus(tag);
            }
        }
        finally
        {
            portal.Cancellation.StopTimer();
        }
    }

    /// <summary>
    /// Outside a block, an INSERT opens the implicit transaction that ends at Sync; a statement a block would refuse (or a
    /// transaction statement) first commits the INSERTs before it, so statements keep their order.
    /// </summary>
    private async Task ImplicitBlockBeforeAsync(ClassifiedStatement s, StatementCancellation cancellation)
    {
        if (_txStatus != TxIdle)
        {
            return;
        }
        // An INSERT followed at once by Sync is its own implicit transaction: it runs as it is (one grain call), with the
        // same all-or-nothing outcome as holding it until Sync.
        if (!_implicitBlock && s.Verb == "INSERT" && !_reader.NextIsReceivedSync())
        {
            await RunImplicitTransactionStatementAsync("BEGIN", cancellation).ConfigureAwait(false);
            _implicitBlock = true;
        }
        else if (_implicitBlock && !TransactionVerbs.RunsInImplicitBlock(s))
        {
            _implicitBlock = false;
            await RunImplicitTransactionStatementAsync("COMMIT", cancellation).ConfigureAwait(false);
        }
    }

    // A client that prepared the statement decodes rows by the types Describe reported: they must not change.
    private static void CheckDescribedTypes(PreparedStatement statement, ColumnEncoder[] encoders)
    {
        if (statement.Description?.ResultSchema is not { } described)
        {
            return;
        }
        var same = described.FieldsList.Count == encoders.Length;
        for (var i = 0; same && i < encoders.Length; i++)
        {
            same = PgTypeMapping.TryForField(described.FieldsList[i])?.Oid == encoders[i].Type.Oid;
        }
        if (!same)
        {
            statement.Description = null;
            throw new PostgresErrorException(SqlState.FeatureNotSupported, "cached plan must not change result type");
        }
    }

    private async Task ExecuteAsync(string name, int maxRows)
    {
        if (!_portals.TryGetValue(name, out var portal))
        {
            throw new PostgresErrorException(SqlState.InvalidCursorName, $"portal \"{name}\" does not exist");
        }
        var s = portal.Statement.Statement;
        ThrowIfTransactionAborted(s);
        if (HandledHere(s))
        {
            _failedCancellation = portal.Cancellation;
            portal.Cancellation.StartTimer(_settings.StatementTimeout);
            if (s.Kind == StatementKind.Show && (s.Name == "all" || SessionSettings.Handles(s.Name!)))
            {
                WriteShow(s.Name!, portal.IsBinary, describe: false);
            }
            else if (s.Kind == StatementKind.Fetch)
            {
                await FetchAsync(s, portal.IsBinary, describe: false).ConfigureAwait(false);
            }
            else
            {
                await ExecuteStatementAsync(s, portal.Parameters, portal.IsBinary, portal.Cancellation).ConfigureAwait(false);
            }
            portal.Cancellation.StopTimer();
            _failedCancellation = null;
            return;
        }
        _failedCancellation = portal.Cancellation;
        if (portal.Result is null && portal.CompletedTag is null)
        {
            await StartPortalAsync(portal).ConfigureAwait(false);
        }
        if (portal.CompletedTag is not null)
        {
            _out.WriteCommandComplete(portal.CompletedTag);
            _failedCancellation = null;
            return;
        }
        var rows = portal.Rows!;
        portal.Cancellation.StartTimer(_settings.StatementTimeout);
        var (count, ended) = await SendRowsAsync(rows, maxRows <= 0 ? 0 : maxRows, portal.Cancellation).ConfigureAwait(false);
        portal.Cancellation.StopTimer();
        if (ended)
        {
            _out.WriteCommandComplete($"{portal.Result!.RowsVerb} {count}");
        }
        else
        {
            _out.WriteEmptyMessage((byte)'s'); // PortalSuspended
        }
        _failedCancellation = null;
    }

    private async Task CloseAsync(byte kind, string name)
    {
        switch (kind)
        {
            case (byte)'S':
                _statements.Remove(name);
                break;
            case (byte)'P':
                if (_portals.Remove(name, out var portal))
                {
                    await DisposeQuietlyAsync(portal).ConfigureAwait(false);
                }
                break;
            default:
                throw new PostgresErrorException(SqlState.ProtocolViolation, $"invalid CLOSE message subtype {kind}");
        }
        _out.WriteEmptyMessage((byte)'3');
    }
}
