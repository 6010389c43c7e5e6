using TimeFusion.DuckDb;
using TimeFusion.Query.Execution;

namespace TimeFusion.Tests.Abuse;

/// <summary>The default process memory cap's rule and the allocator setting that lets a capped process recover.</summary>
public sealed class ProcessMemoryDefaultTests
{
    [Theory]
    [InlineData(32L << 30, 28L << 30)] // an eighth left over
    [InlineData(2L << 30, 1536L << 20)] // at least 512 MiB left over
    [InlineData(600L << 20, 256L << 20)] // never below 256 MiB
    [InlineData(0L, 0L)] // unknown memory: no cap
    public void The_default_cap_leaves_an_eighth_of_the_memory_and_at_least_512_MiB(long available, long expected) =>
        Assert.Equal(expected, ExecutionOptions.DefaultProcessMemoryLimit(available));

    [Fact]
    public void Minus_one_derives_the_cap_zero_turns_it_off_and_a_value_is_taken_as_is()
    {
        Assert.Equal(28L << 30, new ExecutionOptions().EffectiveProcessMemoryLimit(32L << 30));
        Assert.Equal(0, new ExecutionOptions { ProcessMemoryLimitBytes = 0 }.EffectiveProcessMemoryLimit(32L << 30));
        Assert.Equal(1L << 30, new ExecutionOptions { ProcessMemoryLimitBytes = 1L << 30 }.EffectiveProcessMemoryLimit(32L << 30));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExecutionOptions { ProcessMemoryLimitBytes = -2 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExecutionOptions { ProcessMemoryLimitBytes = 1L << 20 }.Validate());
        new ExecutionOptions().Validate();
    }

    [Fact]
    public void The_allocator_can_be_purged_where_DuckDB_bundles_jemalloc()
    {
        // Linux x64 DuckDB bundles jemalloc; elsewhere there is nothing to purge and the calls say so.
        var bundled = DuckDbAllocator.RetainsAddressSpace() is not null;
        Assert.Equal(bundled, DuckDbAllocator.Purge());
        Assert.Equal(OperatingSystem.IsLinux() && RuntimeInformationIsX64(), bundled);
    }

    private static bool RuntimeInformationIsX64() =>
        System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
}
