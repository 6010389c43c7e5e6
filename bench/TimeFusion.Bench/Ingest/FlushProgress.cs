using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// What the silo's flush log lines (<c>{project}/{table}: flushed N rows … through LSN L … (export E, …)</c>) say: each
/// project's flushed-through LSN, and each flush's time, rows and export milliseconds. Lets a benchmark wait, on a
/// condition rather than a sleep, until every row written so far has been flushed, and judge whether a rate was
/// sustained (flushes of the same size and export time, not growing).
/// </summary>
public sealed partial class FlushProgress
{
    /// <summary>One flush as logged: when it was seen (ms of the tracker's clock), rows, export ms.</summary>
    public readonly record struct Flush(double AtMs, string Project, long Rows, long Lsn, long ExportMs);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _flushedLsn = new(StringComparer.Ordinal);
    private readonly List<Flush> _flushes = [];
    private TaskCompletionSource _changed = NewSignal();

    [GeneratedRegex(@"(?:^|\s)([^\s/]+)/\S+: flushed (\d+) rows .*? through LSN (\d+) .*?\(export (\d+),")]
    private static partial Regex FlushLine();

    /// <summary>Milliseconds since the tracker was created (the time base of <see cref="Flush.AtMs"/>).</summary>
    public double ElapsedMs => _clock.Elapsed.TotalMilliseconds;

    /// <summary>Takes one silo log line; returns whether it was a flush line.</summary>
    public bool Observe(string line)
    {
        var m = FlushLine().Match(line);
        if (!m.Success) return false;
        var flush = new Flush(ElapsedMs, m.Groups[1].Value, long.Parse(m.Groups[2].ValueSpan, CultureInfo.InvariantCulture),
            long.Parse(m.Groups[3].ValueSpan, CultureInfo.InvariantCulture), long.Parse(m.Groups[4].ValueSpan, CultureInfo.InvariantCulture));
        TaskCompletionSource changed;
        lock (_gate)
        {
            _flushes.Add(flush);
            _flushedLsn[flush.Project] = Math.Max(flush.Lsn, _flushedLsn.GetValueOrDefault(flush.Project));
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
        return true;
    }

    /// <summary>The flushes seen so far, in the order logged.</summary>
    public IReadOnlyList<Flush> Flushes
    {
        get
        {
            lock (_gate) return _flushes.ToArray();
        }
    }

    /// <summary>Whether every project in <paramref name="lsns"/> has been flushed through at least its LSN.</summary>
    public bool FlushedThrough(IReadOnlyDictionary<string, long> lsns)
    {
        lock (_gate) return lsns.All(p => _flushedLsn.GetValueOrDefault(p.Key) >= p.Value);
    }

    /// <summary>
    /// Waits until every project in <paramref name="lsns"/> has been flushed through at least its LSN; false when
    /// <paramref name="timeout"/> passed first.
    /// </summary>
    public async Task<bool> WaitFlushedThroughAsync(IReadOnlyDictionary<string, long> lsns, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (lsns.All(p => _flushedLsn.GetValueOrDefault(p.Key) >= p.Value)) return true;
                changed = _changed.Task;
            }
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero) return false;
            try
            {
                await changed.WaitAsync(left);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
