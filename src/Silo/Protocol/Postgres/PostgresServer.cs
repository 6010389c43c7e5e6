using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Protocol.Postgres.Connection;
using TimeFusion.Silo.Security;
using TimeFusion.Wire;

using TimeFusion.Silo.Protocol.Postgres.Session;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// The PostgreSQL wire protocol (v3) listener: accepts connections on the configured address and port and
/// serves each on its own task against an <see cref="IPostgresBackend"/>. A connection that misbehaves,
/// stalls or dies affects nothing but itself. Stopping cancels running statements and closes connections.
/// </summary>
public sealed class PostgresServer : IHostedService, IAsyncDisposable
{
    private readonly IPostgresBackend _backend;
    private readonly PostgresServerOptions _options;
    private readonly ILogger _logger;
    private readonly LoginThrottle _throttle;
    // Start-up (unauthenticated) connections, oldest first: a new one beyond the limit ends the oldest.
    private readonly ConcurrentDictionary<int, PostgresConnection> _starting = new();
    private readonly ConcurrentQueue<int> _startOrder = new();
    // Authenticated connections: in total and per user (admission under the lock).
    private readonly Lock _admission = new();
    private readonly Dictionary<string, int> _perUser = new(StringComparer.Ordinal);
    private int _admitted;
    private readonly ConcurrentDictionary<int, (PostgresConnection Connection, Task Task)> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private System.Security.Cryptography.X509Certificates.X509Certificate2? _certificate;
    private Task? _acceptLoop;
    private int _nextProcessId = Random.Shared.Next(1000, 100_000);
    private int _stopped;

    /// <summary>Creates the server (started by the host, or by <see cref="StartAsync"/>).</summary>
    public PostgresServer(IPostgresBackend backend, IOptions<PostgresServerOptions> options, ILogger<PostgresServer>? logger = null,
        LoginThrottle? throttle = null, PostgresSessions? sessions = null)
    {
        Sessions = sessions ?? new PostgresSessions();
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        _backend = backend;
        _throttle = throttle ?? LoginThrottle.CreateDefault();
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>This listener's authenticated connections (pg_stat_activity, pg_cancel_backend).</summary>
    public PostgresSessions Sessions { get; }

    /// <summary>The bound address and port once started (useful with <see cref="PostgresServerOptions.Port"/> 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Connections being served now.</summary>
    public int ActiveConnections => _connections.Count;

    /// <summary>Connections authenticated and admitted now.</summary>
    public int AdmittedConnections
    {
        get
        {
            lock (_admission) return _admitted;
        }
    }

    /// <summary>Connections still starting up (negotiating or authenticating) now.</summary>
    public int StartingConnections => _starting.Count;

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _accepted);

    private long _accepted;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled || _listener is not null)
        {
            return Task.CompletedTask;
        }
        _certificate = ServerCertificates.Load(_options.Tls, PostgresServerOptions.Section + ":Tls");
        var address = IPAddress.Parse(_options.ListenAddress);
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }
            listener.Bind(new IPEndPoint(address, _options.Port));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        _logger.LogInformation("PostgreSQL protocol listening on {EndPoint}", LocalEndPoint);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        // Fast shutdown: running statements are cancelled and every client is told the server is going away.
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        var tasks = _connections.Values.Select(c => c.Task).Concat(_refusals.Keys).ToArray();
        var all = Task.WhenAll(tasks);
        var grace = Task.Delay(_options.ShutdownGracePeriod, cancellationToken);
        if (await Task.WhenAny(all, grace).ConfigureAwait(false) != all)
        {
            _logger.LogWarning("{Count} PostgreSQL connections did not close within the shutdown grace period", tasks.Count(t => !t.IsCompleted));
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _certificate?.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        var backoff = TimeSpan.FromMilliseconds(10);
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(10);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                if (_stopping.IsCancellationRequested || e.SocketErrorCode == SocketError.OperationAborted)
                {
                    return;
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                _logger.LogWarning("accepting a PostgreSQL connection failed: {Message}", e.Message);
                try
                {
                    await Task.Delay(backoff, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 1000));
                continue;
            }
            Interlocked.Increment(ref _accepted);
            Configure(socket);
            // A hard cap on sockets (file descriptors): admitted connections plus those starting up.
            if (_connections.Count >= _options.MaxConnections + _options.MaxStartupConnections)
            {
                Reject(socket);
                continue;
            }
            StartConnection(socket);
        }
    }

    private void StartConnection(Socket socket)
    {
        int processId;
        do
        {
            processId = Interlocked.Increment(ref _nextProcessId) & int.MaxValue;
        }
        while (processId == 0 || _connections.ContainsKey(processId));
        var secretKey = RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
        var connection = new PostgresConnection(socket, processId, secretKey, _options, _backend, _logger, TryCancel, _stopping.Token,
            throttle: _throttle, admit: Admit, certificate: _certificate, sessions: Sessions);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Run(async () =>
        {
            await started.Task.ConfigureAwait(false);
            try
            {
                await connection.RunAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "PostgreSQL connection {ProcessId} failed", processId);
            }
            finally
            {
                _connections.TryRemove(processId, out _);
                _starting.TryRemove(processId, out _);
                Release(connection);
                try
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    _logger.LogWarning(e, "closing PostgreSQL connection {ProcessId} failed", processId);
                }
            }
        });
        _connections[processId] = (connection, task);
        _starting[processId] = connection;
        _startOrder.Enqueue(processId);
        EvictOldestStarting();
        started.SetResult();
    }

    /// <summary>Past the start-up limit: the oldest connections still starting up end (FATAL 53300), newest first served.</summary>
    private void EvictOldestStarting()
    {
        while (_starting.Count > _options.MaxStartupConnections && _startOrder.TryDequeue(out var oldest))
        {
            if (_starting.TryRemove(oldest, out var connection))
            {
                connection.AbortStartup();
            }
        }
    }

    /// <summary>
    /// After authentication: takes a connection slot for <paramref name="user"/>, or says why not (53300): the server is
    /// full, only reserved admin slots remain, or the user holds its limit. Admins are not held to the per-user limit.
    /// </summary>
    private PostgresErrorException? Admit(PostgresConnection connection, PostgresUser user)
    {
        _starting.TryRemove(connection.ProcessId, out _);
        lock (_admission)
        {
            if (_admitted >= _options.MaxConnections)
            {
                return new PostgresErrorException(SqlState.TooManyConnections, "sorry, too many clients already");
            }
            if (!user.IsAdmin && _admitted >= _options.MaxConnections - Math.Min(_options.ReservedAdminConnections, _options.MaxConnections - 1))
            {
                return new PostgresErrorException(SqlState.TooManyConnections, "remaining connection slots are reserved for admins")
                {
                    Hint = $"the server holds {_admitted} of TimeFusion:Postgres:MaxConnections = {_options.MaxConnections}; TimeFusion:Postgres:ReservedAdminConnections = {_options.ReservedAdminConnections} are kept for admins",
                };
            }
            var held = _perUser.GetValueOrDefault(user.Name);
            if (!user.IsAdmin && _options.MaxConnectionsPerUser > 0 && held >= _options.MaxConnectionsPerUser)
            {
                return new PostgresErrorException(SqlState.TooManyConnections, $"too many connections for role \"{user.Name}\"")
                {
                    Hint = $"TimeFusion:Postgres:MaxConnectionsPerUser is {_options.MaxConnectionsPerUser}",
                };
            }
            _perUser[user.Name] = held + 1;
            _admitted++;
            connection.AdmittedUser = user;
        }
        return null;
    }

    private void Release(PostgresConnection connection)
    {
        if (connection.AdmittedUser is not { } user)
        {
            return;
        }
        lock (_admission)
        {
            _admitted--;
            if (_perUser.TryGetValue(user.Name, out var held) && held > 1)
            {
                _perUser[user.Name] = held - 1;
            }
            else
            {
                _perUser.Remove(user.Name);
            }
        }
        connection.AdmittedUser = null;
    }

    /// <summary>A CancelRequest: cancels the running statement of the connection with that process id and key.</summary>
    private bool TryCancel(int processId, int secretKey)
    {
        if (_connections.TryGetValue(processId, out var entry) && entry.Connection.SecretKey == secretKey)
        {
            entry.Connection.CancelCurrentStatement();
            return true;
        }
        _logger.LogDebug("cancel request for unknown process {ProcessId} or wrong key", processId);
        return false;
    }

    private static void Configure(Socket socket)
    {
        try
        {
            socket.NoDelay = true;
            // Dead peers are found by keepalive probes rather than never.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 60);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 6);
        }
        catch (SocketException)
        {
            // Options are best effort (not every platform has all of them).
        }
    }

    /// <summary>
    /// Over the connection limit: the client still gets to negotiate (SSLRequest → 'N') and send its startup
    /// packet, then receives FATAL 53300. At most <see cref="MaxRefusing"/> such refusals run at once; beyond
    /// that the socket is simply closed.
    /// </summary>
    private void Reject(Socket socket)
    {
        if (Interlocked.Increment(ref _refusing) > MaxRefusing)
        {
            Interlocked.Decrement(ref _refusing);
            socket.Dispose();
            return;
        }
        var refusal = new PostgresErrorException(SqlState.TooManyConnections, "sorry, too many clients already");
        var connection = new PostgresConnection(socket, 0, 0, _options, _backend, _logger, TryCancel, _stopping.Token, refusal);
        var task = Task.Run(async () =>
        {
            try
            {
                await connection.RunAsync().ConfigureAwait(false);
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                Interlocked.Decrement(ref _refusing);
            }
        });
        _refusals[task] = 0;
        _ = task.ContinueWith(t => _refusals.TryRemove(t, out _), TaskScheduler.Default);
    }

    private const int MaxRefusing = 64;
    private int _refusing;
    private readonly ConcurrentDictionary<Task, byte> _refusals = new();
}
