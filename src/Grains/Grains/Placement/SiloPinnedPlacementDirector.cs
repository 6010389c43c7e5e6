using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace TimeFusion.Grains.Placement;

/// <summary>
/// Decides <see cref="SiloPinnedPlacement"/>: the compatible silo whose identity is the grain's key, or — the silo is
/// gone or the key names none — the calling silo, so a caller holding a stale silo name still gets an activation.
/// </summary>
public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    /// <inheritdoc />
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString();
        foreach (var silo in context.GetCompatibleSilos(target))
        {
            if (silo.ToString() == key) return Task.FromResult(silo);
        }
        return Task.FromResult(context.LocalSilo);
    }
}
