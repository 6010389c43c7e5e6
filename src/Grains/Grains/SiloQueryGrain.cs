using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using TimeFusion.Grains.Placement;
using TimeFusion.Query.Execution;

namespace TimeFusion.Grains;

/// <summary>
/// Runs the query parts a gateway on another silo sends for the table grains of this silo, in one call
/// (<see cref="ISiloQueryGrain"/>). Reentrant: it only awaits its table grains, so any number of statements share it.
/// At most <see cref="ExecutionOptions.MaxConcurrentGrainCalls"/> parts of one call run at once, as at the gateway.
/// </summary>
[SiloPinnedPlacement, Reentrant]
public sealed class SiloQueryGrain(IOptions<ExecutionOptions> options) : Grain, ISiloQueryGrain
{
    private readonly int _maxConcurrent = options.Value.MaxConcurrentGrainCalls;

    /// <inheritdoc />
    public async Task<IReadOnlyList<GrainQueryAnswer>> QueryPartsAsync(IReadOnlyList<GrainQueryPart> parts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var answers = new GrainQueryAnswer[parts.Count];
        await FailFastCalls.RunAsync(parts.Count, _maxConcurrent, async (i, token) =>
            answers[i] = await GrainFactory.GetGrain<ITableGrain>(parts[i].GrainKey).QueryPartAsync(parts[i].Query, token), cancellationToken);
        return answers;
    }
}
