using System.Collections.Concurrent;
using Apache.Arrow;
using Microsoft.Extensions.Logging;
using TimeFusion.Engine;

namespace TimeFusion.Grains;

/// <summary>
/// The table grains active on this silo that take inserts straight from this silo's protocol sessions: a prepared
/// 30-row INSERT then costs no Orleans message, no turn on the grain's scheduler and two thread hops fewer (issue 11's
/// small statements, where per-statement hops were the cost). A grain offers its engine here once it has taken one
/// insert through Orleans (its project is registered in the catalog then), and withdraws it — waiting for the inserts
/// in flight — before it drops, reopens for a new schema or deactivates. Everything else (a table active on another
/// silo, or not active, or a faulted engine) goes through the grain as before.
/// </summary>
public sealed class LocalTableWriters
{
    private readonly ConcurrentDictionary<string, Writer> _writers = new(StringComparer.Ordinal);

    /// <summary>Tables (grain keys, <see cref="TableGrainKey"/>) that take direct inserts now (tests).</summary>
    public int Count => _writers.Count;

    /// <summary>
    /// Starts an insert of <paramref name="batch"/> into the table grain <paramref name="grainKey"/>'s engine when that
    /// grain is active on this silo and accepts direct inserts; null otherwise (call the grain). Same contract as
    /// <see cref="ITableGrain.InsertAsync"/>: the task completes once the rows are durable and visible, and the caller
    /// does not reuse <paramref name="batch"/> meanwhile. Engine exceptions come untranslated
    /// (<see cref="Hosting.ExceptionTranslationFilter.Translate"/> words them, as it does for the grain).
    /// </summary>
    public Task<long>? TryInsert(string grainKey, RecordBatch batch) =>
        _writers.TryGetValue(grainKey, out var writer) ? writer.TryInsert(batch) : null;

    /// <summary>Offers a grain's engine; the returned writer is the grain's to <see cref="Writer.CloseAsync"/>.</summary>
    internal Writer Open(string grainKey, TableEngine engine, ILogger logger)
    {
        var writer = new Writer(this, grainKey, engine, logger);
        _writers[grainKey] = writer;
        return writer;
    }

    /// <summary>
    /// How often a statement still goes through the grain: Orleans collects an activation that receives no calls
    /// (its collection age, 15 min by default), and one call a second keeps it active while direct inserts flow.
    /// </summary>
    internal static readonly TimeSpan GrainCallInterval = TimeSpan.FromSeconds(1);

    /// <summary>One grain's engine, open to direct inserts until closed.</summary>
    internal sealed class Writer(LocalTableWriters owner, string grainKey, TableEngine engine, ILogger logger)
    {
        private readonly object _gate = new();
        private int _inFlight;
        private bool _closed;
        private TaskCompletionSource? _drained;
        private long _lastGrainCall = System.Diagnostics.Stopwatch.GetTimestamp();

        /// <summary>The grain took an insert itself (it calls this from its turn).</summary>
        public void GrainCalled() => Interlocked.Exchange(ref _lastGrainCall, System.Diagnostics.Stopwatch.GetTimestamp());

        public Task<long>? TryInsert(RecordBatch batch)
        {
            lock (_gate)
            {
                // A faulted engine is left to the grain: its next call deactivates it and the table reopens.
                if (_closed || engine.IsFaulted) return null;
                if (System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastGrainCall)) >= GrainCallInterval)
                {
                    // This one goes through the grain (which keeps it active); the next ones come here again.
                    GrainCalled();
                    return null;
                }
                _inFlight++;
            }
            return RunAsync(batch);
        }

        private async Task<long> RunAsync(RecordBatch batch)
        {
            try
            {
                return await engine.InsertAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e) when (FencedWrite.Is(e))
            {
                // As the grain logs a fenced write (the cluster tests count these lines on the process that was paused).
                logger.LogWarning("{Table}: write " + FencedWrite.LogMarker + ": another silo took this table over; nothing of it was committed ({Reason})",
                    engine.Id, e.GetBaseException().Message);
                throw;
            }
            finally
            {
                TaskCompletionSource? drained;
                lock (_gate)
                    drained = --_inFlight == 0 && _closed ? _drained : null;
                drained?.TrySetResult();
            }
        }

        /// <summary>Takes no more direct inserts and completes once those in flight have (acknowledged or failed).</summary>
        public Task CloseAsync()
        {
            owner._writers.TryRemove(new KeyValuePair<string, Writer>(grainKey, this));
            lock (_gate)
            {
                _closed = true;
                if (_inFlight == 0) return Task.CompletedTask;
                return (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }
}
