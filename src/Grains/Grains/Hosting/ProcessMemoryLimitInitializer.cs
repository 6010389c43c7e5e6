using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TimeFusion.DuckDb;
using TimeFusion.Query.Execution;

namespace TimeFusion.Hosting;

/// <summary>
/// Applies <c>TimeFusion:Execution:ProcessMemoryLimitBytes</c> (<see cref="ProcessMemoryLimit"/>) as the silo starts,
/// before any table or statement allocates.
/// </summary>
internal sealed class ProcessMemoryLimitInitializer(IOptions<ExecutionOptions> options, ILogger<ProcessMemoryLimitInitializer> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ProcessMemoryLimitInitializer), ServiceLifecycleStage.First, _ =>
        {
            var bytes = options.Value.ProcessMemoryLimitBytes;
            if (bytes > 0)
            {
                if (ProcessMemoryLimit.TryApply(bytes))
                    logger.LogInformation("process memory limited to {Bytes} bytes (TimeFusion:Execution:ProcessMemoryLimitBytes)", bytes);
                else
                    logger.LogWarning("TimeFusion:Execution:ProcessMemoryLimitBytes could not be applied on this platform");
            }
            return Task.CompletedTask;
        });
}
