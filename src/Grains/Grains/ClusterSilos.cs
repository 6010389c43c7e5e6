using TimeFusion.Query.Statements;

namespace TimeFusion.Grains;

/// <summary>The cluster's silos from Orleans' membership (through the management grain), for <c>timefusion.silos</c>.</summary>
internal static class ClusterSilos
{
    /// <summary>Every silo in the membership table, dead ones included, oldest first.</summary>
    public static async Task<IReadOnlyList<SiloMembership>> ListAsync(IGrainFactory grains)
    {
        var entries = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false);
        return entries.OrderBy(e => e.StartTime).ThenBy(e => e.SiloAddress.ToString(), StringComparer.Ordinal)
            .Select(e => new SiloMembership(
                // The same text as Grain.RuntimeIdentity (SiloAddress.ToString), which timefusion.tables shows per table grain.
                e.SiloAddress.ToString(), e.SiloAddress.Endpoint.ToString(), e.SiloName ?? "", e.HostName ?? "", StatusText(e.Status),
                new DateTimeOffset(DateTime.SpecifyKind(e.StartTime, DateTimeKind.Utc)),
                new DateTimeOffset(DateTime.SpecifyKind(e.IAmAliveTime, DateTimeKind.Utc))))
            .ToList();
    }

    private static string StatusText(SiloStatus status) => status switch
    {
        SiloStatus.Created => "created",
        SiloStatus.Joining => "joining",
        SiloStatus.Active => "active",
        SiloStatus.ShuttingDown => "shutting_down",
        SiloStatus.Stopping => "stopping",
        SiloStatus.Dead => "dead",
        _ => status.ToString().ToLowerInvariant(),
    };
}
