using System.Collections.Concurrent;

namespace TimeFusion.Grains;

/// <summary>
/// Where this silo last saw each table grain answer a query part (the silo identity in its
/// <see cref="GrainQueryAnswer"/>): the query gateway sends the parts of grains that live on the same other silo
/// together (<see cref="ISiloQueryGrain"/>). Only a hint: a stale entry costs an extra hop, never a wrong answer, and
/// each answer corrects it. One entry per table grain queried through this silo.
/// </summary>
public sealed class TableGrainLocations
{
    private readonly ConcurrentDictionary<string, string> _silos = new(StringComparer.Ordinal);

    /// <summary>The silo identity <paramref name="grainKey"/> last answered from, or null when not known yet.</summary>
    public string? SiloOf(string grainKey) => _silos.TryGetValue(grainKey, out var silo) ? silo : null;

    /// <summary>Notes that <paramref name="grainKey"/> answered from <paramref name="silo"/>.</summary>
    public void Note(string grainKey, string silo) => _silos[grainKey] = silo;
}
