namespace TimeFusion.Dml;

/// <summary>
/// How a DML statement's cancellation (statement timeout, cancel request, lost client, shutdown) stops it before it is
/// logged. The token interrupts DuckDB (<c>duckdb_interrupt</c>), but DuckDB notices an interrupt only between units
/// of work (a Parquet row group, many vectors of a buffer scan): under an expensive predicate one unit can take many
/// seconds, and the statement held the table (its flush lock) all that time — on a real server a cancelled DELETE kept
/// the next write waiting ~10–28 s. So the statement stops waiting at once: the interrupted DuckDB work ends on its own,
/// on its own connection, snapshot and staging files (released by it), and nothing of it is logged or committed.
/// </summary>
internal static class DmlCancellation
{
    /// <summary>
    /// The result of <paramref name="work"/>, or <see cref="OperationCanceledException"/> as soon as
    /// <paramref name="cancellationToken"/> is cancelled (the work then ends by itself; its failure is observed).
    /// </summary>
    public static async Task<T> StopWaitingAsync<T>(Task<T> work, CancellationToken cancellationToken)
    {
        try
        {
            return await work.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!work.IsCompleted)
        {
            Observe(work);
            throw;
        }
    }

    /// <inheritdoc cref="StopWaitingAsync{T}(Task{T}, CancellationToken)"/>
    public static async Task StopWaitingAsync(Task work, CancellationToken cancellationToken)
    {
        try
        {
            await work.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!work.IsCompleted)
        {
            Observe(work);
            throw;
        }
    }

    // The abandoned work fails with the interrupt: observed, so that it is not reported as an unobserved exception.
    private static void Observe(Task work) =>
        _ = work.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}
