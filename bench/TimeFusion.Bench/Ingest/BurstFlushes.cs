using System.Text.RegularExpressions;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// Counts the flushes a silo logs (<c>{table}: flushed {rows} rows …</c>) while <see cref="Counting"/> is on: a burst meant
/// to fit the buffer should show none, and any it shows cost the burst CPU (doputab's flushes column).
/// </summary>
public sealed partial class BurstFlushes
{
    private int _flushes;
    private long _rows;

    /// <summary>Listens to <paramref name="silo"/>'s log.</summary>
    public BurstFlushes(SiloProcess silo) => silo.LineReceived += Observe;

    /// <summary>Whether flushes logged now are counted.</summary>
    public bool Counting { get; set; }

    /// <summary>Flushes counted.</summary>
    public int Count => Volatile.Read(ref _flushes);

    /// <summary>Rows those flushes persisted.</summary>
    public long Rows => Interlocked.Read(ref _rows);

    private void Observe(string line)
    {
        if (!Counting || Flushed().Match(line) is not { Success: true } match) return;
        Interlocked.Increment(ref _flushes);
        Interlocked.Add(ref _rows, long.Parse(match.Groups[1].ValueSpan));
    }

    [GeneratedRegex(@": flushed (\d+) rows ")]
    private static partial Regex Flushed();
}
