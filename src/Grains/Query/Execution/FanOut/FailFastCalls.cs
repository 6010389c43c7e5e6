namespace TimeFusion.Query.Execution;

/// <summary>
/// Runs calls concurrently, at most a given number at once; the first failure cancels the rest and is the one
/// rethrown (not one of the cancellations it caused). What the gateway's fan-out and a silo's share of it both do.
/// </summary>
public static class FailFastCalls
{
    /// <summary>Runs <paramref name="call"/> for 0 … <paramref name="count"/> − 1 and waits for all of them.</summary>
    /// <param name="count">How many calls.</param>
    /// <param name="maxConcurrent">How many may be in flight at once.</param>
    /// <param name="call">Call <c>i</c>; it gets a token that the first failure (or <paramref name="cancellationToken"/>) cancels.</param>
    /// <param name="cancellationToken">Cancels every call.</param>
    public static async Task RunAsync(int count, int maxConcurrent, Func<int, CancellationToken, Task> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrent, 1);
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(maxConcurrent);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await slots.WaitAsync(failFast.Token).ConfigureAwait(false);
            try
            {
                await call(i, failFast.Token).ConfigureAwait(false);
            }
            catch
            {
                failFast.Cancel();
                throw;
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch when (!cancellationToken.IsCancellationRequested)
        {
            var first = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            throw;
        }
    }
}
