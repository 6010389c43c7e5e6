using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Net;
using System.Net.Sockets;
using Apache.Arrow;
using Microsoft.Extensions.Logging;
using TimeFusion.Silo.Protocol.Postgres.Session;
using TimeFusion.Silo.Protocol.Postgres.Sql;
using TimeFusion.Silo.Security;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>
/// One client connection: start-up and authentication, then the message loop (simple and extended query,
/// COPY). Runs on its own task; its failures end only this connection. Output is buffered per connection
/// and written when a sync point or the flush threshold is reached.
/// </summary>
internal sealed partial class PostgresConnection : IAsyncDisposable
{
    private const byte TxIdle = (byte)'I';
    private const byte TxInBlock = (byte)'T';
    private const byte TxFailed = (byte)'E';

    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly X509Certificate2? _certificate;
    // Plain over the socket, or TLS once the client asked for it (SSLRequest) and a certificate is configured.
    private Stream _stream;
    private PipeReader _pipe;
    private PgMessageReader _reader;
    private readonly PgOutputBuffer _out = new();
    private readonly PostgresServerOptions _options;
    private readonly IPostgresBackend _backend;
    private readonly ILogger _logger;
    private readonly Func<int, int, bool> _cancelOther;
    private readonly CancellationToken _stopping;
    private readonly Dictionary<string, PreparedStatement> _statements = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Portal> _portals = new(StringComparer.Ordinal);

    private IPostgresSession? _session;
    private PostgresUser? _user;
    /// <summary>A protocol-held setting's current value (null when this layer does not hold it), for the backend.</summary>
    private string? CurrentSetting(string name)
    {
        if (!SessionSettings.Handles(name)) return null;
        try
        {
            return _settings.Show(name);
        }
        catch (PostgresErrorException)
        {
            return null;
        }
    }

    private SessionSettings _settings;
    private byte _txStatus = TxIdle;
    private bool _skipUntilSync;
    private volatile StatementCancellation? _active;

    private readonly PostgresErrorException? _refusal;
    private readonly LoginThrottle _throttle;
    private readonly Func<PostgresConnection, PostgresUser, PostgresErrorException?> _admit;
    private readonly CancellationTokenSource _startupAbort = new();
    private readonly PostgresSessions? _sessions;

    public PostgresConnection(Socket socket, int processId, int secretKey, PostgresServerOptions options, IPostgresBackend backend,
        ILogger logger, Func<int, int, bool> cancelOther, CancellationToken stopping, PostgresErrorException? refusal = null,
        LoginThrottle? throttle = null, Func<PostgresConnection, PostgresUser, PostgresErrorException?>? admit = null,
        X509Certificate2? certificate = null, PostgresSessions? sessions = null)
    {
        _certificate = certificate;
        _sessions = sessions;
        _refusal = refusal;
        _throttle = throttle ?? LoginThrottle.CreateDefault();
        _admit = admit ?? ((_, _) => null);
        _socket = socket;
        ProcessId = processId;
        SecretKey = secretKey;
        _options = options;
        _backend = backend;
        _logger = logger;
        _cancelOther = cancelOther;
        _stopping = stopping;
        RemoteEndPoint = TryRemoteEndPoint(socket);
        _network = new NetworkStream(socket, ownsSocket: true);
        _stream = _network;
        _pipe = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        _reader = new PgMessageReader(_pipe, options.MaxMessageBytes);
        _settings = new SessionSettings(options.StatementTimeout, options.ServerVersion, "", false);
    }

    /// <summary>The process id reported in BackendKeyData.</summary>
    public int ProcessId { get; }

    /// <summary>The secret key reported in BackendKeyData (a cancel request must match it).</summary>
    public int SecretKey { get; }

    /// <summary>The client's address.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The client's IP address (the key of the login back-off).</summary>
    public IPAddress? RemoteAddress => (RemoteEndPoint as IPEndPoint)?.Address;

    /// <summary>Whether start-up (negotiation and authentication) is over, successfully or not.</summary>
    public bool StartupEnded { get; private set; }

    /// <summary>The user admitted to a connection slot (released when the connection ends); null before.</summary>
    public PostgresUser? AdmittedUser { get; set; }

    /// <summary>Ends start-up now (the server needs the slot for a newer connection); no effect once it is over.</summary>
    public void AbortStartup()
    {
        try
        {
            _startupAbort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static EndPoint? TryRemoteEndPoint(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Cancels the statement running now, if any (a CancelRequest naming this connection).</summary>
    public void CancelCurrentStatement() => _active?.CancelByUser();

    /// <summary>Runs the connection until the client leaves, breaks the protocol, or the server stops.</summary>
    public async Task RunAsync()
    {
        try
        {
            if (!await StartupAsync().ConfigureAwait(false))
            {
                return;
            }
            await MessageLoopAsync().ConfigureAwait(false);
        }
        catch (PgProtocolException e)
        {
            _logger.LogDebug("closing connection {ProcessId}: {Message}", ProcessId, LogText.Escape(e.Message));
            await TrySendFatalAsync(e.SqlState, e.Message).ConfigureAwait(false);
        }
        catch (PostgresErrorException e)
        {
            // Start-up errors (authentication, session) are FATAL.
            await TrySendFatalAsync(e.SqlState, e.Message, e.Detail, e.Hint).ConfigureAwait(false);
        }
        catch (ClientGoneException)
        {
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            await TrySendFatalAsync(SqlState.AdminShutdown, "terminating connection due to administrator command").ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            _logger.LogDebug("connection {ProcessId} closed: {Message}", ProcessId, LogText.Escape(e.Message));
        }
        catch (Exception e)
        {
            _logger.LogError(e, "connection {ProcessId} failed", ProcessId);
            await TrySendFatalAsync(SqlState.InternalError, e.Message).ConfigureAwait(false);
        }
    }

    private async Task MessageLoopAsync()
    {
        while (true)
        {
            FrontendMessage? next;
            try
            {
                next = await _reader.ReadAsync(_stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                throw new ClientGoneException("read failed", e);
            }
            if (next is not { } message)
            {
                return;
            }
            using (message)
            {
                if (message.Type == 'X')
                {
                    return;
                }
                if (_skipUntilSync && message.Type != 'S')
                {
                    continue;
                }
                switch ((char)message.Type)
                {
                    case 'Q':
                        await SimpleQueryAsync(message).ConfigureAwait(false);
                        break;
                    case 'P':
                    case 'B':
                    case 'D':
                    case 'E':
                    case 'C':
                        await ExtendedAsync(message).ConfigureAwait(false);
                        break;
                    case 'S':
                        await SyncAsync().ConfigureAwait(false);
                        break;
                    case 'H':
                        await FlushAsync().ConfigureAwait(false);
                        break;
                    case 'd':
                    case 'c':
                    case 'f':
                        // Copy messages after a COPY failed or finished are dropped, as PostgreSQL does.
                        break;
                    case 'F':
                        await ReportErrorAsync(new PostgresErrorException(SqlState.FeatureNotSupported, "the function call protocol is not supported"), null, extended: true).ConfigureAwait(false);
                        break;
                    default:
                        throw new PgProtocolException($"invalid frontend message type {message.Type}");
                }
            }
            if (_out.Length >= _options.OutputFlushBytes)
            {
                await FlushAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes buffered output to the client.</summary>
    private async ValueTask FlushAsync()
    {
        try
        {
            await _out.FlushToAsync(_stream, _stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw new ClientGoneException("write failed", e);
        }
    }

    /// <summary>How long a row write may stay blocked after its statement ended before the client counts as gone.</summary>
    private static readonly TimeSpan StuckClientGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Flushes rows. A client that stops reading blocks the write (the socket's buffers are full), and with it the
    /// statement, its slot and its stream: once the statement is cancelled (its timeout, a cancel request, the server
    /// stopping) and the write still does not move, the connection is closed, as nothing more can be said on it.
    /// </summary>
    private async ValueTask FlushRowsAsync(CancellationToken statement)
    {
        var flush = FlushAsync().AsTask();
        if (flush.IsCompleted || !statement.CanBeCanceled)
        {
            await flush.ConfigureAwait(false);
            return;
        }
        try
        {
            await flush.WaitAsync(statement).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (statement.IsCancellationRequested && !flush.IsCompleted)
        {
            try
            {
                await flush.WaitAsync(StuckClientGrace).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                throw new ClientGoneException("the client stopped reading the rows of a cancelled statement", e);
            }
        }
    }

    private async ValueTask FlushIfFullAsync()
    {
        if (_out.Length >= _options.OutputFlushBytes)
        {
            await FlushAsync().ConfigureAwait(false);
        }
    }

    private void WriteReadyForQuery()
    {
        EndActivity();
        _out.WriteReadyForQuery(_txStatus);
    }

    /// <summary>
    /// Turns a failure into an ErrorResponse. Client loss and server shutdown are rethrown (they end the
    /// connection); everything else is reported and the connection carries on.
    /// </summary>
    private async ValueTask ReportErrorAsync(Exception e, StatementCancellation? cancellation, bool extended)
    {
        var error = Map(e, cancellation);
        _out.AbandonMessage();
        _out.WriteError("ERROR", error.SqlState, error.Message, error.Detail, error.Hint, error.Position, error.Where);
        if (_txStatus == TxInBlock)
        {
            _txStatus = TxFailed;
        }
        if (extended)
        {
            _skipUntilSync = true;
            // Sent at once, as PostgreSQL does: a client that sent Describe + Flush waits for the answer before Sync.
            await FlushAsync().ConfigureAwait(false);
            return;
        }
        await FlushIfFullAsync().ConfigureAwait(false);
    }

    private PostgresErrorException Map(Exception e, StatementCancellation? cancellation)
    {
        if (e is ClientGoneException)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
        if (_stopping.IsCancellationRequested)
        {
            throw new OperationCanceledException("server stopping", e, _stopping);
        }
        if (cancellation is not null && cancellation.Token.IsCancellationRequested)
        {
            return new PostgresErrorException(SqlState.QueryCanceled, cancellation.IsUserCanceled
                ? "canceling statement due to user request"
                : "canceling statement due to statement timeout");
        }
        switch (e)
        {
            case PostgresErrorException p:
                return p;
            case OperationCanceledException:
                return new PostgresErrorException(SqlState.QueryCanceled, "canceling statement due to user request");
            case OutOfMemoryException or InsufficientExecutionStackException:
                return new PostgresErrorException(SqlState.OutOfMemory, "out of memory");
            default:
                // Unexpected failures (Orleans timeouts naming grains, engine internals) stay in the log; the client
                // gets a stable text it can quote to an operator.
                _logger.LogWarning(e, "statement failed on connection {ProcessId}", ProcessId);
                return new PostgresErrorException(SqlState.InternalError, $"internal error; the server log has the details (connection {ProcessId})");
        }
    }

    private async ValueTask TrySendFatalAsync(string sqlState, string message, string? detail = null, string? hint = null)
    {
        try
        {
            _out.Clear();
            _out.WriteError("FATAL", sqlState, message, detail, hint);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _out.FlushToAsync(_stream, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The client is gone or not reading: nothing more to tell it.
        }
    }

    /// <summary>Runs backend work for a statement with cancel requests routed to it.</summary>
    private async ValueTask<T> RunAsync<T>(StatementCancellation cancellation, Func<CancellationToken, ValueTask<T>> work)
    {
        _active = cancellation;
        using var watch = WatchForDisconnect(cancellation);
        try
        {
            return await work(cancellation.Token).ConfigureAwait(false);
        }
        finally
        {
            _active = null;
        }
    }

    /// <summary>
    /// While a statement runs nothing reads the socket, so a client that goes away would leave its statement running to
    /// the end: a timer looks at the socket a few times a second and cancels the statement once the peer has closed it
    /// (readable with nothing to read). Pipelined messages the client sent meanwhile stay unread.
    /// </summary>
    private Timer WatchForDisconnect(StatementCancellation cancellation) => new(_ =>
    {
        try
        {
            if (_socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0)
                cancellation.CancelByDisconnect();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            cancellation.CancelByDisconnect();
        }
    }, null, DisconnectPollInterval, DisconnectPollInterval);

    private static readonly TimeSpan DisconnectPollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Sends rows until the result ends or <paramref name="maxRows"/> rows were sent (0 = all). Returns rows sent and whether it ended.</summary>
    private async ValueTask<(long Rows, bool Ended)> SendRowsAsync(RowStream rows, long maxRows, StatementCancellation cancellation)
    {
        long sent = 0;
        var encoders = rows.Encoders;
        _active = cancellation;
        try
        {
            while (maxRows == 0 || sent < maxRows)
            {
                cancellation.Token.ThrowIfCancellationRequested();
                if (!await rows.MoveNextRowAsync().ConfigureAwait(false))
                {
                    return (sent, true);
                }
                var row = rows.Row;
                _out.StartMessage((byte)'D');
                _out.WriteInt16((short)encoders.Length);
                for (var i = 0; i < encoders.Length; i++)
                {
                    encoders[i].Write(_out, row);
                }
                _out.EndMessage();
                rows.Advance();
                sent++;
                if (_out.Length >= _options.OutputFlushBytes)
                {
                    await FlushRowsAsync(cancellation.Token).ConfigureAwait(false);
                }
            }
            // Exactly maxRows sent: the portal is suspended unless the result also ended right here.
            return (sent, false);
        }
        catch
        {
            _out.AbandonMessage();
            throw;
        }
        finally
        {
            _active = null;
        }
    }

    private ColumnEncoder[] CreateEncoders(Schema schema, Func<int, bool> binary)
    {
        if (schema.FieldsList.Count > short.MaxValue)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, "too many result columns");
        }
        var encoders = new ColumnEncoder[schema.FieldsList.Count];
        for (var i = 0; i < encoders.Length; i++)
        {
            encoders[i] = ColumnEncoders.Create(schema.FieldsList[i], binary(i), _settings.TimeZone);
        }
        return encoders;
    }

    private static List<string> ColumnNames(Schema schema) => schema.FieldsList.Select(f => f.Name).ToList();

    /// <summary>In a failed block only COMMIT/ROLLBACK run (25P02 otherwise), as in PostgreSQL.</summary>
    private void ThrowIfTransactionAborted(ClassifiedStatement s)
    {
        if (_txStatus == TxFailed && s.Kind != StatementKind.Empty && !TransactionVerbs.EndsBlock(s.Verb))
        {
            throw new PostgresErrorException(SqlState.InFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
        }
    }

    /// <summary>The statement for the backend: COMMIT of a failed block is a ROLLBACK (and completes as one), as in PostgreSQL.</summary>
    private BackendStatement BackendFor(ClassifiedStatement s) =>
        _txStatus == TxFailed && s.Verb is "COMMIT" or "END" ? new BackendStatement("ROLLBACK", "ROLLBACK") : s.Backend;

    private void UpdateTransactionStatus(string tag)
    {
        var verb = tag.Split(' ', 2)[0].ToUpperInvariant();
        switch (verb)
        {
            case "BEGIN":
            case "START":
                _txStatus = TxInBlock;
                break;
            case "COMMIT":
            case "ROLLBACK":
            case "END":
            case "ABORT":
                _txStatus = TxIdle;
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _sessions?.Remove(this);
        await CloseCursorsAsync(_ => true).ConfigureAwait(false);
        foreach (var portal in _portals.Values)
        {
            await DisposeQuietlyAsync(portal).ConfigureAwait(false);
        }
        _portals.Clear();
        if (_session is not null)
        {
            try
            {
                await _session.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "closing the session of connection {ProcessId} failed", ProcessId);
            }
            _session = null;
        }
        _reader.ReleasePending();
        await _pipe.CompleteAsync().ConfigureAwait(false);
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        await _network.DisposeAsync().ConfigureAwait(false);
        _out.Dispose();
    }

    private async ValueTask DisposeQuietlyAsync(Portal portal)
    {
        try
        {
            await portal.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "closing a portal of connection {ProcessId} failed", ProcessId);
        }
    }
}
