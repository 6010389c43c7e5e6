namespace TimeFusion.Wal;

/// <summary>What a queued request asks the writer loop to do.</summary>
internal enum WalRequestKind
{
    /// <summary>Append one entry.</summary>
    Append,

    /// <summary>fsync everything written so far.</summary>
    Sync,

    /// <summary>Start a new segment if every entry of the active one is at or below <see cref="WalRequest.UpToLsn"/>.</summary>
    RollIfCovered,
}

/// <summary>
/// One request to the writer loop. An append can be cancelled only until the loop claims it; once claimed it is
/// written and completes normally, so a cancelled append is never in the log.
/// </summary>
internal sealed class WalRequest
{
    private const int Pending = 0, Claimed = 1, Cancelled = 2;
    private int _state;

    private WalRequest(WalRequestKind kind, WalOperation operation, ReadOnlyMemory<byte> payload, long upToLsn, WalSchema? schema = null, int rawBodyLength = 0,
        WalColumnMask? mask = null)
    {
        Mask = mask;
        RawBodyLength = rawBodyLength;
        Kind = kind;
        Operation = operation;
        Payload = payload;
        UpToLsn = upToLsn;
        Schema = schema;
    }

    public WalRequestKind Kind { get; }

    public WalOperation Operation { get; }

    /// <summary>The payload bytes; for an insert with a <see cref="Schema"/>, the IPC messages after the schema.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>
    /// For a schema-sharing insert, its schema: the writer inlines it or refers to it depending on the segment the
    /// entry lands in (see <see cref="WalInsertForms"/>).
    /// </summary>
    public WalSchema? Schema { get; }

    /// <summary>For a schema-sharing insert whose <see cref="Payload"/> is Brotli-compressed, its uncompressed length; else 0.</summary>
    public int RawBodyLength { get; }

    /// <summary>For a projected insert, the columns its <see cref="Payload"/> holds; else null.</summary>
    public WalColumnMask? Mask { get; }

    /// <summary>The most payload bytes the entry can take (with its schema inline).</summary>
    public long MaxPayloadLength => Schema is null ? Payload.Length : (long)WalInsertForms.HeaderLength(true, RawBodyLength > 0, Mask) + Schema.Bytes.Length + Payload.Length;

    public long UpToLsn { get; }

    // Continuations may run inline (CompleteInline); every other completion is queued to the thread pool, so that no
    // caller's code runs on the writer loop (it would hold up the next group's write and fsync) or on a canceller.
    private readonly TaskCompletionSource<long> _completion = new();

    /// <summary>Completes with the LSN (appends), the last LSN (sync), or 1/0 for rolled or not.</summary>
    public Task<long> Completion => _completion.Task;

    /// <summary>Completes with <paramref name="result"/> on a pool thread (the caller's continuation runs there).</summary>
    public void Succeed(long result) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Request._completion.TrySetResult(s.Result), (Request: this, Result: result), preferLocal: false);

    /// <summary>Fails with <paramref name="error"/> on a pool thread.</summary>
    public void Fail(Exception error) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Request._completion.TrySetException(s.Error), (Request: this, Error: error), preferLocal: false);

    /// <summary>
    /// Completes with <paramref name="result"/> here: the caller's continuation runs on this thread before this returns.
    /// Only for a thread that does nothing else meanwhile (<see cref="GroupCommitWriter"/>'s group completion).
    /// </summary>
    public void CompleteInline(long result) => _completion.TrySetResult(result);

    // Filled by the writer loop while it encodes a batch.
    public long Lsn { get; set; }

    public int HeaderOffset { get; set; }

    public int HeaderLength { get; set; }

    public bool StartsSegment { get; set; }

    /// <summary>Whether this entry carries its <see cref="Schema"/> inline (the first use in its segment).</summary>
    public bool InlineSchema { get; set; }

    /// <summary>The frame's bytes: header, envelope prefix, form header, inline schema, payload.</summary>
    public long FrameLength { get; set; }

    /// <summary>When the append was queued (Stopwatch timestamp), for <see cref="WalMetrics.QueueWait"/>.</summary>
    public long EnqueuedTicks { get; set; }

    /// <summary>Where the caller wants this append's timings, or null.</summary>
    public WalAppendTrace? Trace { get; set; }

    public static WalRequest Append(WalOperation operation, ReadOnlyMemory<byte> payload) => new(WalRequestKind.Append, operation, payload, 0);

    public static WalRequest AppendInsert(WalSchema schema, ReadOnlyMemory<byte> body, int rawBodyLength, WalColumnMask? mask) =>
        new(WalRequestKind.Append, WalOperation.Insert, body, 0, schema, rawBodyLength, mask);

    public static WalRequest Control(WalRequestKind kind, long upToLsn = 0) => new(kind, default, default, upToLsn);

    /// <summary>The loop takes the request; false when it was cancelled first.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Pending) == Pending;

    /// <summary>Cancels the request if the loop has not taken it yet.</summary>
    public void TryCancel(CancellationToken token)
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Pending) == Pending)
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Request._completion.TrySetCanceled(s.Token), (Request: this, Token: token), preferLocal: false);
    }
}
