using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using TimeFusion.Query.Execution;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// Per-user limit on statements running at once in this silo (<see cref="ExecutionOptions.MaxConcurrentStatementsPerUser"/>):
/// one tenant's runaway statements take at most that many slots, leaving the cores to others. A statement over the
/// limit waits for a slot up to <see cref="ExecutionOptions.StatementQueueTimeout"/> (or its own cancellation), then
/// fails with 53400 configuration_limit_exceeded — PostgreSQL has no per-user statement limit; 53400 is its code for a
/// limit a setting imposes (53300 is reserved for connections).
/// </summary>
public sealed class StatementAdmission(IOptions<ExecutionOptions> options)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _users = new(StringComparer.Ordinal);
    private readonly ExecutionOptions _options = options.Value;

    /// <summary>Waits for one of <paramref name="user"/>'s slots; dispose the result when the statement ends.</summary>
    /// <exception cref="TimeFusionException">53400 after waiting <see cref="ExecutionOptions.StatementQueueTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    public async Task<IDisposable> EnterAsync(string user, CancellationToken cancellationToken)
    {
        var limit = _options.MaxConcurrentStatementsPerUser;
        if (limit == 0) return Slot.None;
        var gate = _users.GetOrAdd(user, _ => new SemaphoreSlim(limit, limit));
        if (!await gate.WaitAsync(_options.StatementQueueTimeout, cancellationToken).ConfigureAwait(false))
            throw new TimeFusionException(SqlState.ConfigurationLimitExceeded,
                $"too many statements running for user \"{user}\": at most {limit} at once (TimeFusion:Execution:MaxConcurrentStatementsPerUser)");
        return new Slot(gate);
    }

    private sealed class Slot(SemaphoreSlim? gate) : IDisposable
    {
        public static readonly Slot None = new(null);
        private SemaphoreSlim? _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
    }
}
