using Orleans.Placement;
using Orleans.Runtime;

namespace TimeFusion.Grains.Placement;

/// <summary>
/// Places a grain keyed by a silo's identity (<c>Grain.RuntimeIdentity</c>, i.e. <c>SiloAddress.ToString()</c>) on
/// that silo while it is in the cluster, and on the calling silo otherwise (<see cref="SiloPinnedPlacementDirector"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed class SiloPinnedPlacement : PlacementStrategy;

/// <summary>Applies <see cref="SiloPinnedPlacement"/> to a grain class.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(new SiloPinnedPlacement());
