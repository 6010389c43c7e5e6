namespace TimeFusion.Delta;

/// <summary>Options of a <see cref="DeltaTable"/>.</summary>
public sealed class DeltaOptions
{
    /// <summary>Write a checkpoint after every commit whose version is a multiple of this (0 disables). Default 10.</summary>
    public int CheckpointInterval { get; set; } = 10;

    /// <summary>
    /// How many times a commit that lost the race for its version is retried on top of the winner. Only blind
    /// appends whose <c>txn</c> app ids the winners did not touch are retried; anything else fails at once with
    /// <see cref="DeltaConcurrentCommitException"/>. Default 10.
    /// </summary>
    public int MaxCommitAttempts { get; set; } = 10;

    /// <summary>How long a <c>remove</c> tombstone is kept in checkpoints (<c>delta.deletedFileRetentionDuration</c> default). Default 7 days.</summary>
    public TimeSpan TombstoneRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How many commit files are read concurrently when replaying the log. Default 16.</summary>
    public int LogReadConcurrency { get; set; } = 16;

    /// <summary>The <c>engineInfo</c> written into every commit.</summary>
    public string EngineInfo { get; set; } = "TimeFusion";

    /// <summary>The clock for commit timestamps and tombstone expiry.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;
}
