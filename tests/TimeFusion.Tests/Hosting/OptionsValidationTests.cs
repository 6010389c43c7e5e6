using Microsoft.Extensions.Options;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Flush;
using TimeFusion.Hosting;
using TimeFusion.Ingest;
using TimeFusion.Query.Execution;
using TimeFusion.Silo;
using TimeFusion.Silo.Protocol.Flight;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Hosting;

/// <summary>Each validator accepts the defaults and names the configuration key of a bad value.</summary>
public sealed class OptionsValidationTests
{
    private static void Fails<T>(IValidateOptions<T> validator, T options, string key) where T : class
    {
        var result = validator.Validate(Options.DefaultName, options);
        Assert.True(result.Failed, $"expected {key} to be refused");
        Assert.Contains(result.Failures!, f => f.StartsWith(key + " = ", StringComparison.Ordinal));
    }

    private static void Passes<T>(IValidateOptions<T> validator, T options) where T : class =>
        Assert.True(validator.Validate(Options.DefaultName, options).Succeeded, string.Join("; ", validator.Validate(Options.DefaultName, options).Failures ?? []));

    [Fact]
    public void Defaults_are_valid()
    {
        Passes(new TimeFusionOptionsValidator(), new TimeFusionOptions());
        Passes(new BufferOptionsValidator(), new BufferOptions());
        Passes(new FlushOptionsValidator(), new FlushOptions());
        Passes(new FlushTimerOptionsValidator(), new FlushTimerOptions());
        Passes(new WalOptionsValidator(), new WalOptions());
        Passes(new IngestOptionsValidator(Microsoft.Extensions.Options.Options.Create(new TimeFusion.Wal.WalOptions())), new IngestOptions());
        Passes(new DeltaOptionsValidator(), new DeltaOptions());
        Passes(new ExecutionOptionsValidator(), new ExecutionOptions());
        Passes(new TimeFusionStorageOptionsValidator(), new TimeFusionStorageOptions());
        Passes(new ServerOptionsValidator(), new ServerOptions());
        Passes(new PostgresServerOptionsValidator(), new PostgresServerOptions());
        Passes(new FlightEndpointOptionsValidator(), new FlightEndpointOptions());
    }

    [Fact]
    public void Buffer_limits_name_their_keys()
    {
        Fails(new BufferOptionsValidator(), new BufferOptions { SoftLimitBytes = 2L << 30, HardLimitBytes = 2L << 30 }, "TimeFusion:Buffer:SoftLimitBytes");
        Fails(new BufferOptionsValidator(), new BufferOptions { MemoryLimitBytes = -1 }, "TimeFusion:Buffer:MemoryLimitBytes");
        Fails(new BufferOptionsValidator(), new BufferOptions { Threads = 0 }, "TimeFusion:Buffer:Threads");
    }

    [Fact]
    public void Negative_sizes_and_intervals_name_their_keys()
    {
        Fails(new FlushOptionsValidator(), new FlushOptions { MaxBufferedRows = -5 }, "TimeFusion:Flush:MaxBufferedRows");
        Fails(new FlushOptionsValidator(), new FlushOptions { MaxBufferAge = TimeSpan.FromSeconds(-1) }, "TimeFusion:Flush:MaxBufferAge");
        Fails(new FlushTimerOptionsValidator(), new FlushTimerOptions { CheckInterval = TimeSpan.Zero }, "TimeFusion:Flush:CheckInterval");
        Fails(new WalOptionsValidator(), new WalOptions { SegmentSizeBytes = -1 }, "TimeFusion:Wal:SegmentSizeBytes");
        Fails(new IngestOptionsValidator(Microsoft.Extensions.Options.Options.Create(new TimeFusion.Wal.WalOptions())), new IngestOptions { MaxBatchBytes = 0 }, "TimeFusion:Ingest:MaxBatchBytes");
        Fails(new DeltaOptionsValidator(), new DeltaOptions { CheckpointInterval = -1 }, "TimeFusion:Delta:CheckpointInterval");
        Fails(new ExecutionOptionsValidator(), new ExecutionOptions { MaxConcurrentGrainCalls = 0 }, "TimeFusion:Execution:MaxConcurrentGrainCalls");
        Fails(new TimeFusionOptionsValidator(), new TimeFusionOptions { DataDirectory = " " }, "TimeFusion:DataDirectory");
        Fails(new MaintenanceOptionsValidator(), new TimeFusion.Maintenance.MaintenanceOptions { MaxSmallFilesPerPartition = 0 }, "TimeFusion:Maintenance:MaxSmallFilesPerPartition");
        Fails(new MaintenanceOptionsValidator(), new TimeFusion.Maintenance.MaintenanceOptions { TargetFileBytes = 1 }, "TimeFusion:Maintenance:TargetFileBytes");
        Fails(new MaintenanceOptionsValidator(), new TimeFusion.Maintenance.MaintenanceOptions { VacuumRetention = TimeSpan.FromHours(-1) }, "TimeFusion:Maintenance:VacuumRetention");
        Passes(new MaintenanceOptionsValidator(), new TimeFusion.Maintenance.MaintenanceOptions());
    }

    [Fact]
    public void Ports_out_of_range_name_their_keys()
    {
        Fails(new ServerOptionsValidator(), new ServerOptions { SiloPort = 70000 }, "TimeFusion:SiloPort");
        Fails(new ServerOptionsValidator(), new ServerOptions { GatewayPort = 0 }, "TimeFusion:GatewayPort");
        Fails(new PostgresServerOptionsValidator(), new PostgresServerOptions { Port = 65536 }, "TimeFusion:Postgres:Port");
        Fails(new PostgresServerOptionsValidator(), new PostgresServerOptions { ListenAddress = "localhost:5432" }, "TimeFusion:Postgres:ListenAddress");
        Fails(new FlightEndpointOptionsValidator(), new FlightEndpointOptions { Port = -1 }, "TimeFusion:Flight:Port");
        Fails(new FlightEndpointOptionsValidator(), new FlightEndpointOptions { Http2StreamWindowBytes = 65_534 }, "TimeFusion:Flight:Http2StreamWindowBytes");
        Fails(new FlightEndpointOptionsValidator(), new FlightEndpointOptions { Http2ConnectionWindowBytes = 1024 }, "TimeFusion:Flight:Http2ConnectionWindowBytes");
        Passes(new PostgresServerOptionsValidator(), new PostgresServerOptions { Port = 0 });
    }

    [Fact]
    public void Azure_storage_needs_a_connection_string_and_valid_containers()
    {
        var validator = new TimeFusionStorageOptionsValidator();
        Fails(validator, new TimeFusionStorageOptions { Kind = (StorageKind)7 }, "TimeFusion:Storage:Kind");
        Fails(validator, new TimeFusionStorageOptions { Kind = StorageKind.AzureBlob }, "TimeFusion:Storage:ConnectionString");
        Fails(validator, new TimeFusionStorageOptions { Kind = StorageKind.AzureBlob, ConnectionString = "UseDevelopmentStorage=true", WalContainer = "Bad_Name" },
            "TimeFusion:Storage:WalContainer");
        Passes(validator, new TimeFusionStorageOptions { Kind = StorageKind.AzureBlob, ConnectionString = "UseDevelopmentStorage=true" });
        // A connection string holds a key: it never appears in a message.
        var result = validator.Validate(Options.DefaultName, new TimeFusionStorageOptions { Kind = StorageKind.AzureBlob, ConnectionString = "secret-key", TablesContainer = "x" });
        Assert.DoesNotContain(result.Failures!, f => f.Contains("secret-key", StringComparison.Ordinal));
    }
}
