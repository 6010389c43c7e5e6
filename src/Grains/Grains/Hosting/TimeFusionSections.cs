namespace TimeFusion.Hosting;

/// <summary>
/// The configuration sections TimeFusion reads: one level per concept under <c>TimeFusion</c>, so a key reads as
/// <c>TimeFusion:Flush:MaxBufferAge</c>. Validation messages name keys by these paths.
/// </summary>
public static class TimeFusionSections
{
    /// <summary>The root: <c>DataDirectory</c>, <c>SiloPort</c>, <c>GatewayPort</c>.</summary>
    public const string Root = "TimeFusion";

    /// <summary>The silo-wide buffer database and memory budget (<see cref="TimeFusion.Buffer.BufferOptions"/>).</summary>
    public const string Buffer = Root + ":Buffer";

    /// <summary>When tables flush (<see cref="TimeFusion.Flush.FlushOptions"/>, <see cref="FlushTimerOptions"/>).</summary>
    public const string Flush = Root + ":Flush";

    /// <summary>The write-ahead log (<see cref="TimeFusion.Wal.WalOptions"/>).</summary>
    public const string Wal = Root + ":Wal";

    /// <summary>Delta log settings (<see cref="TimeFusion.Delta.DeltaOptions"/>).</summary>
    public const string Delta = Root + ":Delta";

    /// <summary>OPTIMIZE, VACUUM and log cleanup (<see cref="TimeFusion.Maintenance.MaintenanceOptions"/>).</summary>
    public const string Maintenance = Root + ":Maintenance";

    /// <summary>Batch limits on ingest (<see cref="TimeFusion.Ingest.IngestOptions"/>).</summary>
    public const string Ingest = Root + ":Ingest";

    /// <summary>Query execution (<see cref="TimeFusion.Query.Execution.ExecutionOptions"/>).</summary>
    public const string Execution = Root + ":Execution";

    /// <summary>Where Delta tables and WAL segments live (<see cref="TimeFusionStorageOptions"/>).</summary>
    public const string Storage = Root + ":Storage";

    /// <summary>Cluster mode: Azure clustering, catalog and storage (<see cref="TimeFusionClusterOptions"/>).</summary>
    public const string Cluster = Root + ":Cluster";
}
