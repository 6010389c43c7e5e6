using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Query.Execution;

/// <summary>
/// Which Delta files a statement ending in <c>ORDER BY timestamp DESC LIMIT n</c> reads, as a ladder of attempts.
/// <para>
/// Why an attempt is exact: let <c>R_C</c> be the table's rows with <c>timestamp ≥ C</c>. A file whose (widened)
/// maximum timestamp is below <c>C</c> holds none of them, so an attempt reads only the newest files down to the last
/// one whose maximum reaches <c>C</c>, and filters every side (buffer included) to <c>timestamp ≥ C</c>. The statement
/// keeps a row's result rows or drops them by that row alone (its WHERE clause runs on the grain, and it has no
/// aggregate, window or DISTINCT — the planner checks this before it sets the limit), and orders them by timestamp
/// first. If the statement over <c>R_C</c> yields its full LIMIT, at least <c>n</c> (= LIMIT + OFFSET) result rows
/// have <c>timestamp ≥ C</c>, so the n-th row of the whole answer has <c>timestamp ≥ C</c> too and every row of the
/// answer lies in <c>R_C</c>, ranked the same: the attempt's answer is the answer. Otherwise the next attempt lowers
/// <c>C</c>; the last one reads every candidate file without a cutoff.
/// </para>
/// <para>
/// The cutoff of attempt k is the latest instant such that the files lying wholly at or after it hold at least
/// <c>n × factor × growth^(k-1)</c> rows by their statistics (with a selective WHERE clause more rows are needed than
/// the limit); a long file overlapping it is read too but does not drag it down. Files without statistics (bounds or
/// row count) could hold the newest rows: then every file is read at once.
/// </para>
/// </summary>
internal static class NewestFirstPlan
{
    /// <summary>One attempt: the files to read, newest first, and the cutoff (null = no cutoff, the exact last attempt).</summary>
    public readonly record struct Attempt(IReadOnlyList<AddFile> Files, long? CutoffMicros);

    /// <summary>The attempts, in order; the last one always reads every candidate file without a cutoff.</summary>
    public static List<Attempt> Attempts(IReadOnlyList<AddFile> candidates, long limitPlusOffset, ExecutionOptions options)
    {
        var ordered = DeltaFilePruning.NewestFirst(candidates);
        var attempts = new List<Attempt>();
        if (limitPlusOffset > 0 && ordered.Count > 1 && options.NewestFirstMaxAttempts > 0)
        {
            var mins = new long[ordered.Count];
            var maxes = new long[ordered.Count];
            var rows = new long[ordered.Count];
            var known = true;
            for (var i = 0; i < ordered.Count && known; i++)
            {
                known = DeltaFilePruning.TryGetTimestampBounds(ordered[i], TableSchema.TimestampColumn, out mins[i], out maxes[i])
                    && ordered[i].GetStats()?.NumRecords is { } n && (rows[i] = n) >= 0;
            }
            if (known)
                AddLadder(attempts, ordered, mins, maxes, rows, limitPlusOffset, options);
        }
        attempts.Add(new Attempt(ordered, null));
        return attempts;
    }

    private static void AddLadder(List<Attempt> attempts, IReadOnlyList<AddFile> ordered, long[] mins, long[] maxes, long[] rows,
        long limitPlusOffset, ExecutionOptions options)
    {
        var target = SaturatingMultiply(limitPlusOffset, options.NewestFirstInitialFactor);
        // Files by minimum timestamp, descending: the first ones wholly at or after a cutoff are what the stats promise.
        var byMin = Enumerable.Range(0, ordered.Count).OrderByDescending(i => mins[i]).ToArray();
        var previous = 0;
        for (var k = 0; k < options.NewestFirstMaxAttempts; k++)
        {
            // The latest cutoff such that the files lying wholly at or after it hold at least `target` rows.
            long sum = 0, cutoff = long.MinValue;
            var reached = false;
            foreach (var i in byMin)
            {
                sum += rows[i];
                if (sum >= target)
                {
                    cutoff = mins[i];
                    reached = true;
                    break;
                }
            }
            if (!reached || !SnapshotRelation.CanExpress(cutoff))
                return;
            // Files are ordered by maximum, descending: those that may hold a row at or after the cutoff form a prefix.
            var count = 0;
            while (count < ordered.Count && maxes[count] >= cutoff)
                count++;
            if (count == ordered.Count)
                return; // as much as the last attempt, plus a cutoff: let the last attempt do it
            if (count > previous)
            {
                attempts.Add(new Attempt(ordered.Take(count).ToList(), cutoff));
                previous = count;
            }
            target = SaturatingMultiply(target, options.NewestFirstGrowth);
        }
    }

    private static long SaturatingMultiply(long a, long b) => a > long.MaxValue / b ? long.MaxValue : a * b;
}
