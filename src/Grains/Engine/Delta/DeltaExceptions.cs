namespace TimeFusion.Delta;

/// <summary>Base of every error raised by the Delta log implementation.</summary>
public abstract class DeltaException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected DeltaException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The Delta log is invalid: malformed JSON or Parquet, a missing commit, a required field absent.</summary>
public sealed class DeltaLogCorruptException(string message, Exception? inner = null) : DeltaException(message, inner);

/// <summary>No Delta table exists at the location (its <c>_delta_log/</c> holds no commit or checkpoint).</summary>
public sealed class DeltaTableNotFoundException(string message) : DeltaException(message);

/// <summary>The requested table version does not exist (or can no longer be reconstructed).</summary>
public sealed class DeltaVersionNotFoundException(string message) : DeltaException(message);

/// <summary>
/// The table needs a protocol version or table feature this implementation does not support, so reading (or
/// writing) it could give wrong answers. The message names the version and feature(s).
/// </summary>
public sealed class DeltaUnsupportedFeatureException : DeltaException
{
    /// <summary>Creates the exception.</summary>
    public DeltaUnsupportedFeatureException(string message, IReadOnlyList<string> features) : base(message)
    {
        Features = features;
    }

    /// <summary>The unsupported features (protocol feature names, e.g. <c>deletionVectors</c>), possibly empty when only a version is at fault.</summary>
    public IReadOnlyList<string> Features { get; }
}

/// <summary>
/// Another writer committed the version this commit tried to write, and the commit could not be rebased on top
/// of it. Nothing was written: the caller's data files are not part of the table.
/// </summary>
public sealed class DeltaConcurrentCommitException : DeltaException
{
    /// <summary>Creates the exception.</summary>
    public DeltaConcurrentCommitException(string message, long attemptedVersion, long readVersion) : base(message)
    {
        AttemptedVersion = attemptedVersion;
        ReadVersion = readVersion;
    }

    /// <summary>The version this commit tried to write (now taken by another writer).</summary>
    public long AttemptedVersion { get; }

    /// <summary>The snapshot version the commit was based on.</summary>
    public long ReadVersion { get; }
}

/// <summary>
/// The table at this location belongs to a different (project, table): two names mapped to the same storage
/// folder, or the folder holds a table that TimeFusion did not create. Nothing was written.
/// </summary>
public sealed class DeltaTableIdentityException(string message) : DeltaException(message);

/// <summary>
/// The commit succeeded (version <see cref="CommittedVersion"/> is durable and final) but writing the checkpoint
/// that was due afterwards failed. The table is consistent; the checkpoint can be retried with
/// <see cref="DeltaTable.WriteCheckpointAsync"/>.
/// </summary>
public sealed class DeltaCheckpointException : DeltaException
{
    /// <summary>Creates the exception.</summary>
    public DeltaCheckpointException(string message, DeltaSnapshot committed, Exception inner) : base(message, inner)
    {
        Snapshot = committed;
    }

    /// <summary>The snapshot after the successful commit.</summary>
    public DeltaSnapshot Snapshot { get; }

    /// <summary>The version that was committed.</summary>
    public long CommittedVersion => Snapshot.Version;
}
