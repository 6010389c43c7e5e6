using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TimeFusion.Buffer;
using TimeFusion.Flush;
using TimeFusion.Hosting;
using TimeFusion.Ingest;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Hosting;

/// <summary>The flat keys (<c>TimeFusion:Flush:MaxBufferAge</c>, not <c>Engine:Engine</c>) reach the engine's options.</summary>
public sealed class OptionsBindingTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var silo = new TestSiloBuilder(settings);
        silo.AddTimeFusionEngine().AddTimeFusionStorage();
        return silo.Services.BuildServiceProvider();
    }

    [Fact]
    public void One_level_per_concept_binds_every_engine_section()
    {
        using var sp = Build(new()
        {
            ["TimeFusion:DataDirectory"] = "/srv/tf",
            ["TimeFusion:Buffer:SoftLimitBytes"] = "1000",
            ["TimeFusion:Buffer:HardLimitBytes"] = "2000",
            ["TimeFusion:Flush:MaxBufferAge"] = "00:00:05",
            ["TimeFusion:Flush:CheckInterval"] = "00:00:00.250",
            ["TimeFusion:Wal:SyncMode"] = "Interval",
            ["TimeFusion:Ingest:MaxRowsPerBatch"] = "5000",
            ["TimeFusion:Maintenance:MaxSmallFilesPerPartition"] = "40",
        });
        Assert.Equal(40, sp.GetRequiredService<TimeFusion.Engine.EngineServices>().Options.Maintenance.MaxSmallFilesPerPartition);
        Assert.Equal(1000, sp.GetRequiredService<IOptions<BufferOptions>>().Value.SoftLimitBytes);
        Assert.Equal(2000, sp.GetRequiredService<IOptions<BufferOptions>>().Value.HardLimitBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), sp.GetRequiredService<IOptions<FlushOptions>>().Value.MaxBufferAge);
        Assert.Equal(TimeSpan.FromMilliseconds(250), sp.GetRequiredService<IOptions<FlushTimerOptions>>().Value.CheckInterval);
        Assert.Equal(WalSyncMode.Interval, sp.GetRequiredService<IOptions<WalOptions>>().Value.SyncMode);
        Assert.Equal(5000, sp.GetRequiredService<IOptions<IngestOptions>>().Value.MaxRowsPerBatch);
        // Staging defaults to the data directory, unless configured.
        Assert.Equal(Path.Combine(Path.GetFullPath("/srv/tf"), "staging"), sp.GetRequiredService<IOptions<FlushOptions>>().Value.StagingDirectory);
        Assert.Equal(StorageKind.Local, sp.GetRequiredService<IOptions<TimeFusionStorageOptions>>().Value.Kind);
    }

    [Fact]
    public void A_configured_staging_directory_is_kept()
    {
        using var sp = Build(new() { ["TimeFusion:DataDirectory"] = "/srv/tf", ["TimeFusion:Flush:StagingDirectory"] = "/fast/staging" });
        Assert.Equal("/fast/staging", sp.GetRequiredService<IOptions<FlushOptions>>().Value.StagingDirectory);
    }

    [Fact]
    public void A_bad_value_fails_with_the_key_when_the_options_are_first_used()
    {
        using var sp = Build(new() { ["TimeFusion:Buffer:SoftLimitBytes"] = "3000", ["TimeFusion:Buffer:HardLimitBytes"] = "3000" });
        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<BufferOptions>>().Value);
        Assert.Contains(e.Failures, f => f.StartsWith("TimeFusion:Buffer:SoftLimitBytes = '3000'", StringComparison.Ordinal)
            && f.Contains("TimeFusion:Buffer:HardLimitBytes", StringComparison.Ordinal));
    }

    [Fact]
    public void Calling_the_extensions_twice_registers_one_validator_per_options_type()
    {
        var silo = new TestSiloBuilder(new Dictionary<string, string?>());
        silo.UseTimeFusion().UseTimeFusion();
        Assert.Single(silo.Services, d => d.ServiceType == typeof(IValidateOptions<TimeFusionOptions>));
        Assert.Single(silo.Services, d => d.ServiceType == typeof(IValidateOptions<BufferOptions>));
    }
}
