using Microsoft.Extensions.Options;
using TimeFusion.Delta;
using TimeFusion.Flush;
using TimeFusion.Ingest;
using TimeFusion.Maintenance;
using TimeFusion.Query.Execution;
using TimeFusion.Wal;

namespace TimeFusion.Hosting;

/// <summary>Checks <c>TimeFusion:DataDirectory</c> at start.</summary>
internal sealed class TimeFusionOptionsValidator : IValidateOptions<TimeFusionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TimeFusionOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Root);
        problems.Require(!string.IsNullOrWhiteSpace(options.DataDirectory), nameof(options.DataDirectory), options.DataDirectory, "must not be empty");
        return problems.Result;
    }
}

/// <summary>Checks <c>TimeFusion:Flush</c> (the engine's thresholds) at start.</summary>
internal sealed class FlushOptionsValidator : IValidateOptions<FlushOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, FlushOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Flush);
        problems.Require(options.MaxBufferAge > TimeSpan.Zero, nameof(options.MaxBufferAge), options.MaxBufferAge, "must be positive");
        problems.Require(options.MaxBufferedRows > 0, nameof(options.MaxBufferedRows), options.MaxBufferedRows, "must be positive");
        problems.Require(options.MaxBufferedBytes > 0, nameof(options.MaxBufferedBytes), options.MaxBufferedBytes, "must be positive");
        problems.Require(!string.IsNullOrWhiteSpace(options.StagingDirectory), nameof(options.StagingDirectory), options.StagingDirectory, "must not be empty");
        return problems.Result;
    }
}

/// <summary>Checks <c>TimeFusion:Flush:CheckInterval</c> at start.</summary>
internal sealed class FlushTimerOptionsValidator : IValidateOptions<FlushTimerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, FlushTimerOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Flush);
        problems.Require(options.CheckInterval > TimeSpan.Zero, nameof(options.CheckInterval), options.CheckInterval, "must be positive");
        return problems.Result;
    }
}

/// <summary>Checks <c>TimeFusion:Wal</c> at start with the log's own rules.</summary>
internal sealed class WalOptionsValidator : IValidateOptions<WalOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, WalOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Wal);
        problems.From(() => options.Validate());
        return problems.Result;
    }
}

/// <summary>Checks <c>TimeFusion:Ingest</c> at start.</summary>
internal sealed class IngestOptionsValidator(IOptions<WalOptions> wal) : IValidateOptions<IngestOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Ingest);
        problems.Require(options.MinTimestamp < options.MaxTimestamp, nameof(options.MinTimestamp), options.MinTimestamp,
            $"must be before {problems.Key(nameof(options.MaxTimestamp))} ({options.MaxTimestamp:O})");
        problems.Require(options.MaxRowsPerBatch > 0, nameof(options.MaxRowsPerBatch), options.MaxRowsPerBatch, "must be positive");
        problems.Require(options.MaxBatchBytes > 0, nameof(options.MaxBatchBytes), options.MaxBatchBytes, "must be positive");
        problems.Require(options.SlowInsertLogThreshold >= TimeSpan.Zero, nameof(options.SlowInsertLogThreshold), options.SlowInsertLogThreshold, "must not be negative (0 logs nothing)");
        // One limit at the door: a batch accepted here always fits one WAL entry (IPC framing needs a little room).
        var entry = wal.Value.MaxEntryBytes;
        problems.Require(options.MaxBatchBytes <= entry / 8 * 7, nameof(options.MaxBatchBytes), options.MaxBatchBytes,
            $"must be at most 7/8 of {TimeFusionSections.Wal}:MaxEntryBytes ({entry}), so the WAL can log every batch accepted");
        return problems.Result;
    }
}

/// <summary>Checks <c>TimeFusion:Delta</c> at start.</summary>
internal sealed class DeltaOptionsValidator : IValidateOptions<DeltaOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DeltaOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Delta);
        problems.Require(options.CheckpointInterval >= 0, nameof(options.CheckpointInterval), options.CheckpointInterval, "must not be negative (0 disables checkpoints)");
        problems.Require(options.MaxCommitAttempts >= 1, nameof(options.MaxCommitAttempts), options.MaxCommitAttempts, "must be at least 1");
        problems.Require(options.TombstoneRetention >= TimeSpan.Zero, nameof(options.TombstoneRetention), options.TombstoneRetention, "must not be negative");
        problems.Require(options.LogReadConcurrency >= 1, nameof(options.LogReadConcurrency), options.LogReadConcurrency, "must be at least 1");
        return problems.Result;
    }
}

/// <summary>Checks <c>TimeFusion:Execution</c> at start with the executors' own rules.</summary>
internal sealed class ExecutionOptionsValidator : IValidateOptions<ExecutionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ExecutionOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Execution);
        problems.From(options.Validate);
        return problems.Result;
    }
}

/// <summary>Checks <c>TimeFusion:Maintenance</c> at start.</summary>
internal sealed class MaintenanceOptionsValidator : IValidateOptions<MaintenanceOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, MaintenanceOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Maintenance);
        problems.Require(options.CheckInterval > TimeSpan.Zero, nameof(options.CheckInterval), options.CheckInterval, "must be positive");
        problems.Require(options.SmallFileBytes > 0, nameof(options.SmallFileBytes), options.SmallFileBytes, "must be positive");
        problems.Require(options.MaxSmallFilesPerPartition >= 1, nameof(options.MaxSmallFilesPerPartition), options.MaxSmallFilesPerPartition, "must be at least 1");
        problems.Require(options.TargetFileBytes >= options.SmallFileBytes, nameof(options.TargetFileBytes), options.TargetFileBytes,
            $"must be at least {problems.Key(nameof(options.SmallFileBytes))} ({options.SmallFileBytes})");
        problems.Require(options.TargetFileRows > 0, nameof(options.TargetFileRows), options.TargetFileRows, "must be positive");
        problems.Require(options.VacuumRetention >= TimeSpan.Zero, nameof(options.VacuumRetention), options.VacuumRetention, "must not be negative");
        problems.Require(options.VacuumInterval > TimeSpan.Zero, nameof(options.VacuumInterval), options.VacuumInterval, "must be positive");
        problems.Require(options.LogRetention >= TimeSpan.Zero, nameof(options.LogRetention), options.LogRetention, "must not be negative");
        problems.Require(options.MaxOptimizeAttempts >= 1, nameof(options.MaxOptimizeAttempts), options.MaxOptimizeAttempts, "must be at least 1");
        problems.Require(options.OptimizeThreads >= 1, nameof(options.OptimizeThreads), options.OptimizeThreads, "must be at least 1");
        problems.Require(options.OptimizeMemoryBytes >= 64L << 20, nameof(options.OptimizeMemoryBytes), options.OptimizeMemoryBytes, "must be at least 64 MiB");
        problems.Require(options.OptimizeNice is >= 0 and <= 19, nameof(options.OptimizeNice), options.OptimizeNice, "must be between 0 and 19");
        return problems.Result;
    }
}
