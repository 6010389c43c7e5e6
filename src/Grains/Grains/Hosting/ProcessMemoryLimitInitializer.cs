using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TimeFusion.DuckDb;
using TimeFusion.Query.Execution;

namespace TimeFusion.Hosting;

/// <summary>
/// Applies <c>TimeFusion:Execution:ProcessMemoryLimitBytes</c> (<see cref="ProcessMemoryLimit"/>; by default derived from
/// the memory the runtime sees, <see cref="ExecutionOptions.DefaultProcessMemoryLimit"/>) as the silo starts, before any
/// table or statement allocates, and warns when DuckDB's allocator was loaded before it could be told to give address
/// space back (<see cref="DuckDbAllocator"/>): a statement that reached the cap would then leave the process at it.
/// </summary>
internal sealed class ProcessMemoryLimitInitializer(IOptions<ExecutionOptions> options, ILogger<ProcessMemoryLimitInitializer> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ProcessMemoryLimitInitializer), ServiceLifecycleStage.First, _ =>
        {
            var bytes = options.Value.EffectiveProcessMemoryLimit(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
            if (bytes > 0)
            {
                if (ProcessMemoryLimit.TryApply(bytes))
                    logger.LogInformation("process memory limited to {Bytes} bytes ({Setting})", bytes, ExecutionOptions.ProcessMemorySetting);
                else
                    logger.LogWarning("{Setting} could not be applied on this platform", ExecutionOptions.ProcessMemorySetting);
                if (DuckDbAllocator.RetainsAddressSpace() == true)
                    logger.LogWarning("DuckDB's allocator keeps the address space it reaches ({Allocator}): DuckDB was loaded before TimeFusion could configure it, so a statement that reaches {Setting} leaves the process near it",
                        DuckDbAllocator.Describe(), ExecutionOptions.ProcessMemorySetting);
            }
            return Task.CompletedTask;
        });
}
