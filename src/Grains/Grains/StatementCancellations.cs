using System.Collections.Concurrent;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// Cancellation of running statements inside one silo, by statement id. A door (PostgreSQL, Flight) starts each
/// statement with <see cref="Begin"/>, which puts the statement's id in the Orleans request context; the query gateway
/// and the table grains it calls look the id up (<see cref="TokenOf"/>) and link their work to it. Why not only the
/// grain methods' <see cref="CancellationToken"/> parameters: Orleans' cancel message is addressed to the grain id, and
/// for a stateless worker (the gateway, one activation per core) it does not reach the activation running the call
/// (seen with Orleans 10.4: a statement timeout left DuckDB running). Stateless workers always run in the caller's
/// silo, so the door and the gateway share this registry. Also cancels every statement at once
/// (<see cref="CancelAll"/>: shutdown, memory pressure).
/// </summary>
public sealed class StatementCancellations
{
    /// <summary>The request-context key carrying the statement id.</summary>
    public const string ContextKey = "tf.statement";

    /// <summary>How long a cancelled statement stays findable (cancelled) after its door gave up on it.</summary>
    internal static readonly TimeSpan CancelledLinger = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<Guid, RunningStatement> _running = new();

    /// <summary>A registry of its own (tests, a door outside a silo).</summary>
    public StatementCancellations()
    {
    }

    /// <summary>The silo's registry: every running statement is cancelled (57P01) when the host begins to stop.</summary>
    public StatementCancellations(Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        lifetime.ApplicationStopping.Register(() => CancelAll(Shutdown));
    }

    /// <summary>What a statement the server stops gets.</summary>
    public static readonly ServerCancellation Shutdown = new(SqlState.AdminShutdown, "terminating statement due to administrator command (the server is shutting down)");

    /// <summary>Statements registered and not yet finished.</summary>
    public int Count => _running.Count;

    /// <summary>
    /// Registers a statement whose work stops when <paramref name="cancellationToken"/> is cancelled, and sets its id in
    /// the request context of the calling flow. Dispose the result when the statement ends.
    /// </summary>
    public RunningStatement Begin(CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        var running = new RunningStatement(this, id, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken));
        _running[id] = running;
        RequestContext.Set(ContextKey, id);
        return running;
    }

    /// <summary>The token of the statement named in the current request context, or <see cref="CancellationToken.None"/>.</summary>
    public CancellationToken TokenOf() =>
        RequestContext.Get(ContextKey) is Guid id && _running.TryGetValue(id, out var running) ? running.Token : CancellationToken.None;

    /// <summary>Cancels every running statement (the process is stopping, or memory ran out); returns how many.</summary>
    public int CancelAll(ServerCancellation reason)
    {
        var n = 0;
        foreach (var r in _running.Values)
        {
            r.Cancel(reason);
            n++;
        }
        return n;
    }

    /// <summary>One registered statement.</summary>
    public sealed class RunningStatement : IDisposable
    {
        private readonly StatementCancellations _owner;
        private readonly Guid _id;
        private readonly CancellationTokenSource _source;
        private volatile ServerCancellation? _reason;

        internal RunningStatement(StatementCancellations owner, Guid id, CancellationTokenSource source)
        {
            _owner = owner;
            _id = id;
            _source = source;
            Token = source.Token;
        }

        /// <summary>Cancelled by the caller's token or by the server.</summary>
        public CancellationToken Token { get; }

        /// <summary>Why the server cancelled the statement (null: it did not, or its caller did).</summary>
        public ServerCancellation? Reason => _reason;

        internal void Cancel(ServerCancellation reason)
        {
            _reason ??= reason;
            try
            {
                _source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Finished meanwhile.
            }
        }

        /// <summary>
        /// Unregisters the statement. A cancelled one stays registered (cancelled) for a while: its grain call may still be
        /// in flight, and a gateway that looked it up only after this would otherwise find nothing and run unbounded.
        /// </summary>
        public void Dispose()
        {
            if (RequestContext.Get(ContextKey) is Guid current && current == _id) RequestContext.Remove(ContextKey);
            if (Token.IsCancellationRequested)
            {
                _ = Task.Delay(CancelledLinger).ContinueWith(_ => Forget(), TaskScheduler.Default);
                return;
            }
            Forget();
        }

        private void Forget()
        {
            _owner._running.TryRemove(_id, out _);
            _source.Dispose();
        }
    }
}

/// <summary>Why the server cancelled a statement: the SQLSTATE and message its client gets.</summary>
/// <param name="SqlState">53200 (memory) or 57P01 (shutdown).</param>
/// <param name="Message">The client's error message.</param>
public sealed record ServerCancellation(string SqlState, string Message);
