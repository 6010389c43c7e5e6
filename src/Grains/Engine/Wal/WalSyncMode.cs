namespace TimeFusion.Wal;

/// <summary>When the log forces its writes to stable storage (fsync).</summary>
public enum WalSyncMode
{
    /// <summary>
    /// The default. An append completes only after the entry is fsynced. Appends that arrive while a write
    /// is in flight are grouped and share the next write and fsync (group commit), so concurrency raises
    /// throughput without weakening durability.
    /// </summary>
    PerCommit = 0,

    /// <summary>
    /// An append completes once its entry is written to the operating system (it survives a crash of this
    /// process), and the log fsyncs at most every <see cref="WalOptions.SyncInterval"/>. Window of loss:
    /// entries acknowledged during the last <see cref="WalOptions.SyncInterval"/> before a power failure or
    /// kernel crash can be lost. On Azure append blobs every append is durable when it returns, so the two
    /// modes behave alike there.
    /// </summary>
    Interval = 1,
}
