using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using TimeFusion.Silo.Protocol.Postgres.Auth;
using TimeFusion.Silo.Protocol.Postgres.Session;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

internal sealed partial class PostgresConnection
{
    private const int SslRequestCode = 80877103;
    private const int GssEncRequestCode = 80877104;
    private const int CancelRequestCode = 80877102;

    // Secrets derived from plain-text passwords, so a login does not pay for PBKDF2 every time.
    private static readonly ConditionalWeakTable<PostgresUser, DerivedSecret> DerivedSecrets = new();

    // A fixed per-process key: unknown users get a stable fake salt, so probing cannot tell them from real ones.
    private static readonly byte[] MockKey = RandomNumberGenerator.GetBytes(32);

    private sealed record DerivedSecret(string Source, int Iterations, ScramSecret Secret);

    /// <summary>Start-up: SSL/GSS negotiation, cancel requests, the startup packet, authentication, session. False: close quietly.</summary>
    private async Task<bool> StartupAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping, _startupAbort.Token);
        timeout.CancelAfter(_options.AuthenticationTimeout);
        try
        {
            Dictionary<string, string>? parameters = null;
            for (var attempt = 0; attempt < 4 && parameters is null; attempt++)
            {
                FrontendMessage? packet;
                try
                {
                    packet = await _reader.ReadStartupPacketAsync(_options.MaxStartupPacketBytes, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
                {
                    return false;
                }
                if (packet is not { } message)
                {
                    return false;
                }
                using (message)
                {
                    var body = message.Body;
                    if (body.Length < 4)
                    {
                        throw new PgProtocolException("invalid startup packet layout");
                    }
                    var code = BinaryPrimitives.ReadInt32BigEndian(body);
                    switch (code)
                    {
                        case SslRequestCode when _certificate is not null && _stream == _network:
                            await StartTlsAsync(timeout.Token).ConfigureAwait(false);
                            continue;
                        case SslRequestCode:
                        case GssEncRequestCode:
                            // No TLS or GSS encryption here: 'N' and the client continues in plain text (or gives up).
                            _out.WriteByte((byte)'N');
                            await FlushAsync().ConfigureAwait(false);
                            continue;
                        case CancelRequestCode:
                            if (body.Length >= 12)
                            {
                                var pid = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                                var key = BinaryPrimitives.ReadInt32BigEndian(body[8..]);
                                _cancelOther(pid, key);
                            }
                            return false; // a cancel connection gets no answer; closing it is the reply
                    }
                    parameters = ParseStartupPacket(code, body[4..]);
                }
            }
            if (parameters is null)
            {
                throw new PgProtocolException("too many negotiation requests");
            }
            if (_refusal is not null)
            {
                // Refused (e.g. too many clients) once the client has finished negotiating, as PostgreSQL does.
                throw _refusal;
            }
            if (!parameters.TryGetValue("user", out var userName) || userName.Length == 0)
            {
                throw new PostgresErrorException(SqlState.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet");
            }
            if (parameters.TryGetValue("replication", out var replication) && !IsOff(replication))
            {
                throw new PostgresErrorException(SqlState.FeatureNotSupported, "replication connections are not supported");
            }
            var user = await AuthenticateAsync(userName, timeout.Token).ConfigureAwait(false);
            if (user is null)
            {
                return false;
            }
            if (_admit(this, user) is { } refused)
            {
                throw refused;
            }
            _user = user;
            _settings = new SessionSettings(_options.StatementTimeout, _options.ServerVersion, user.Name, user.IsAdmin);
            ApplyStartupSettings(parameters);
            _settings.CaptureDefaults();
            var database = parameters.TryGetValue("database", out var db) && db.Length > 0 ? db : userName;
            var info = new PostgresSessionInfo(database, parameters, RemoteEndPoint, ProcessId) { Setting = CurrentSetting };
            _session = await _backend.OpenSessionAsync(user, info, timeout.Token).ConfigureAwait(false)
                ?? throw new PostgresErrorException(SqlState.InternalError, "the backend opened no session");
            StartActivity(database);
            _out.WriteAuthentication(0);
            foreach (var (name, value) in _settings.ReportedParameters())
            {
                _out.WriteParameterStatus(name, value);
            }
            _out.WriteBackendKeyData(ProcessId, SecretKey);
            WriteReadyForQuery();
            await FlushAsync().ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (_startupAbort.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            // Evicted: the oldest connection still starting up makes room for a new one (a flood of idle sockets
            // cannot keep anybody out).
            throw new PgProtocolException("too many connections are starting up", SqlState.TooManyConnections);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            throw new PgProtocolException("timeout expired during start-up and authentication", SqlState.ProtocolViolation);
        }
        finally
        {
            StartupEnded = true;
        }
    }

    /// <summary>Answers an SSLRequest with 'S' and continues over TLS with the configured certificate.</summary>
    private async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        // Bytes sent after the SSLRequest, before the handshake, would later pass for protected ones (CVE-2021-23214).
        if (_pipe.TryRead(out var pending))
        {
            var early = pending.Buffer.Length;
            _pipe.AdvanceTo(pending.Buffer.Start);
            if (early > 0)
            {
                throw new PgProtocolException("received unencrypted data after SSL request");
            }
        }
        _out.WriteByte((byte)'S');
        await FlushAsync().ConfigureAwait(false);
        await _pipe.CompleteAsync().ConfigureAwait(false);
        var tls = new SslStream(_network, leaveInnerStreamOpen: true);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate,
                ClientCertificateRequired = false,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        _stream = tls;
        _pipe = PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        _reader = new PgMessageReader(_pipe, _options.MaxMessageBytes);
    }

    private Dictionary<string, string> ParseStartupPacket(int version, ReadOnlySpan<byte> body)
    {
        var major = version >> 16;
        var minor = version & 0xFFFF;
        if (major != 3)
        {
            throw new PgProtocolException($"unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0", SqlState.FeatureNotSupported);
        }
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var unrecognized = new List<string>();
        var reader = new PgBodyReader(body);
        while (true)
        {
            string name;
            try
            {
                name = reader.ReadCString();
            }
            catch (PostgresErrorException)
            {
                throw new PgProtocolException("invalid startup packet layout: expected terminator as last byte");
            }
            if (name.Length == 0)
            {
                break;
            }
            string value;
            try
            {
                value = reader.ReadCString();
            }
            catch (PostgresErrorException)
            {
                throw new PgProtocolException("invalid startup packet layout: expected terminator as last byte");
            }
            if (name.StartsWith("_pq_.", StringComparison.Ordinal))
            {
                unrecognized.Add(name);
                continue;
            }
            parameters[name] = value;
        }
        if (reader.Remaining != 0)
        {
            throw new PgProtocolException("invalid startup packet layout: expected terminator as last byte");
        }
        if (minor > 0 || unrecognized.Count > 0)
        {
            // Protocol 3.2 (or options) requested: tell the client we speak 3.0; it continues with 3.0.
            _out.WriteNegotiateProtocolVersion(BackendMessages.ProtocolVersion30, unrecognized);
        }
        return parameters;
    }

    private void ApplyStartupSettings(Dictionary<string, string> parameters)
    {
        foreach (var (name, value) in parameters)
        {
            if (name is "user" or "database" or "options" or "replication")
            {
                continue;
            }
            TryApplySetting(name, value);
        }
        if (parameters.TryGetValue("options", out var options))
        {
            // "-c name=value" / "--name=value", separated by spaces (backslash escapes a space).
            var args = SplitOptions(options);
            for (var i = 0; i < args.Count; i++)
            {
                var arg = args[i];
                string? assignment = null;
                if (arg == "-c" && i + 1 < args.Count)
                {
                    assignment = args[++i];
                }
                else if (arg.StartsWith("-c", StringComparison.Ordinal))
                {
                    assignment = arg[2..];
                }
                else if (arg.StartsWith("--", StringComparison.Ordinal))
                {
                    assignment = arg[2..];
                }
                var eq = assignment?.IndexOf('=') ?? -1;
                if (assignment is not null && eq > 0)
                {
                    TryApplySetting(assignment[..eq].Replace('-', '_'), assignment[(eq + 1)..]);
                }
            }
        }
    }

    private void TryApplySetting(string name, string value)
    {
        if (!SessionSettings.Handles(name))
        {
            return; // left in the startup parameters for the backend
        }
        try
        {
            _settings.Set(name, value);
        }
        catch (PostgresErrorException e)
        {
            // PostgreSQL refuses the connection for a bad startup setting; so do we.
            throw new PostgresErrorException(e.SqlState, e.Message) { Detail = e.Detail, Hint = e.Hint };
        }
    }

    private static List<string> SplitOptions(string options)
    {
        var result = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < options.Length; i++)
        {
            var c = options[i];
            if (c == '\\' && i + 1 < options.Length)
            {
                current.Append(options[++i]);
            }
            else if (char.IsWhiteSpace(c))
            {
                if (current.Length > 0)
                {
                    result.Add(current.ToString());
                    current.Clear();
                }
            }
            else
            {
                current.Append(c);
            }
        }
        if (current.Length > 0)
        {
            result.Add(current.ToString());
        }
        return result;
    }

    /// <summary>Authenticates the user; null when the client went away mid-way (psql asks for a password that way).</summary>
    private async Task<PostgresUser?> AuthenticateAsync(string userName, CancellationToken cancellationToken)
    {
        // Nobody authenticated gets to send big messages.
        _reader.MaxMessageBytes = Math.Min(_options.MaxMessageBytes, 64 * 1024);
        try
        {
            return await AuthenticateCoreAsync(userName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _reader.MaxMessageBytes = _options.MaxMessageBytes;
        }
    }

    private async Task<PostgresUser?> AuthenticateCoreAsync(string userName, CancellationToken cancellationToken)
    {
        var user = await _backend.FindUserAsync(userName, cancellationToken).ConfigureAwait(false);
        // An unknown name is asked the way most users are, so the method code does not tell names apart either.
        var method = user?.AuthMethod ?? _backend.UnknownUserAuthMethod;
        // Past a few failures for this name or from this address, each attempt waits its turn.
        await _throttle.WaitTurnAsync(userName, RemoteAddress, cancellationToken).ConfigureAwait(false);
        bool ok;
        if (method == PostgresAuthMethod.Cleartext)
        {
            _out.WriteAuthentication(3);
            await FlushAsync().ConfigureAwait(false);
            using var response = await ReadPasswordMessageAsync(cancellationToken).ConfigureAwait(false);
            if (response is not { } message)
            {
                return null;
            }
            var reader = new PgBodyReader(message.Body);
            var password = reader.ReadCString();
            ok = user is not null && VerifyCleartext(user, password);
        }
        else
        {
            var secret = user is null ? MockSecret(userName) : ResolveScramSecret(user);
            _out.WriteAuthenticationSasl("SCRAM-SHA-256");
            await FlushAsync().ConfigureAwait(false);
            ScramServerExchange exchange;
            using (var initial = await ReadPasswordMessageAsync(cancellationToken).ConfigureAwait(false))
            {
                if (initial is not { } message)
                {
                    return null;
                }
                var reader = new PgBodyReader(message.Body);
                var mechanism = reader.ReadCString();
                if (mechanism != "SCRAM-SHA-256")
                {
                    throw new PostgresErrorException(SqlState.InvalidAuthorizationSpecification,
                        $"SASL authentication failed: client selected an invalid SASL authentication mechanism \"{mechanism}\"");
                }
                var length = reader.ReadInt32();
                var clientFirst = length < 0 ? "" : Encoding.UTF8.GetString(reader.ReadBytes(length));
                exchange = StartScram(secret, clientFirst);
            }
            _out.WriteAuthentication(11, Encoding.UTF8.GetBytes(exchange.ServerFirstMessage));
            await FlushAsync().ConfigureAwait(false);
            string? serverFinal;
            using (var final = await ReadPasswordMessageAsync(cancellationToken).ConfigureAwait(false))
            {
                if (final is not { } message)
                {
                    return null;
                }
                try
                {
                    serverFinal = exchange.Finish(Encoding.UTF8.GetString(message.Body));
                }
                catch (ScramException e)
                {
                    throw new PostgresErrorException(SqlState.ProtocolViolation, e.Message);
                }
            }
            ok = user is not null && serverFinal is not null;
            if (ok)
            {
                _out.WriteAuthentication(12, Encoding.UTF8.GetBytes(serverFinal!));
            }
        }
        if (!ok)
        {
            // Logged by the throttle once per burst, not per attempt.
            _throttle.Failed("PostgreSQL", userName, RemoteAddress);
            throw new PostgresErrorException(SqlState.InvalidPassword, $"password authentication failed for user \"{userName}\"");
        }
        _throttle.Succeeded(userName, RemoteAddress);
        return user;
    }

    private static ScramServerExchange StartScram(ScramSecret secret, string clientFirst)
    {
        try
        {
            return ScramServerExchange.Start(secret, clientFirst);
        }
        catch (ScramException e)
        {
            throw new PostgresErrorException(SqlState.ProtocolViolation, e.Message);
        }
    }

    private async Task<FrontendMessage?> ReadPasswordMessageAsync(CancellationToken cancellationToken)
    {
        FrontendMessage? next;
        try
        {
            next = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            return null;
        }
        if (next is { } message && message.Type != 'p')
        {
            var type = message.Type;
            message.Dispose();
            throw new PgProtocolException($"expected password response, got message type {type}");
        }
        return next;
    }

    private ScramSecret ResolveScramSecret(PostgresUser user)
    {
        var configured = user.PasswordOrScramSecret ?? "";
        if (ScramSecret.TryParse(configured, out var parsed))
        {
            return parsed;
        }
        if (DerivedSecrets.TryGetValue(user, out var cached) && cached.Source == configured && cached.Iterations == _options.ScramIterations)
        {
            return cached.Secret;
        }
        var secret = ScramSecret.Create(configured, _options.ScramIterations);
        DerivedSecrets.AddOrUpdate(user, new DerivedSecret(configured, _options.ScramIterations, secret));
        return secret;
    }

    private ScramSecret MockSecret(string userName)
    {
        // Salt, iterations and keys all follow from the name (stable per name, like a real user's), computed with a few
        // HMACs: as cheap as a known user's cached secret, so reply timing does not tell names apart. The keys are
        // secret (MockKey), so nobody can produce a proof for them.
        var name = Encoding.UTF8.GetBytes(userName);
        var salt = HMACSHA256.HashData(MockKey, Tagged("salt", name))[..16];
        var storedKey = HMACSHA256.HashData(MockKey, Tagged("stored", name));
        var serverKey = HMACSHA256.HashData(MockKey, Tagged("server", name));
        return ScramSecret.FromKeys(_options.ScramIterations, salt, storedKey, serverKey);
    }

    private static byte[] Tagged(string tag, byte[] name) => [.. Encoding.ASCII.GetBytes(tag + "\0"), .. name];

    private static bool VerifyCleartext(PostgresUser user, string password)
    {
        var configured = user.PasswordOrScramSecret ?? "";
        if (ScramSecret.TryParse(configured, out var secret))
        {
            return secret.Verify(password);
        }
        // Compare fixed-size digests so the comparison time does not depend on where the strings differ.
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(configured));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        return configured.Length > 0 && CryptographicOperations.FixedTimeEquals(a, b);
    }

    private static bool IsOff(string value) =>
        value.Equals("false", StringComparison.OrdinalIgnoreCase) || value.Equals("off", StringComparison.OrdinalIgnoreCase)
        || value == "0" || value.Equals("no", StringComparison.OrdinalIgnoreCase);

}
