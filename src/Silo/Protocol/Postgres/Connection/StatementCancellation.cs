namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>
/// Cancellation of one statement (or one portal across its Execute messages): a client cancel request,
/// the session's statement timeout, or server shutdown. Remembers which one fired for the error message.
/// </summary>
internal sealed class StatementCancellation : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private volatile bool _userCanceled;

    public StatementCancellation(CancellationToken stopping)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Token = _cts.Token;
    }

    // Kept as a field: a token stays readable after its source is disposed.
    public CancellationToken Token { get; }

    public bool IsUserCanceled => _userCanceled;

    /// <summary>Starts the statement timeout (zero: none).</summary>
    public void StartTimer(TimeSpan timeout)
    {
        if (timeout > TimeSpan.Zero)
        {
            _cts.CancelAfter(timeout);
        }
    }

    /// <summary>Stops the timeout between Execute messages of a suspended portal.</summary>
    public void StopTimer()
    {
        try
        {
            _cts.CancelAfter(Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>A client cancel request for this statement.</summary>
    public void CancelByUser()
    {
        _userCanceled = true;
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The statement finished as the request arrived: nothing to cancel.
        }
    }

    /// <summary>The client closed its connection while the statement ran: stop the work nobody will read.</summary>
    public void CancelByDisconnect()
    {
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The statement finished meanwhile.
        }
    }

    public void Dispose() => _cts.Dispose();
}
