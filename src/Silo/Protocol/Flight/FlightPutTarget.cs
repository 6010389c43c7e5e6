using Apache.Arrow.Flight;
using TimeFusion.Grains;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>Where a DoPut writes: read from a path descriptor <c>[project, table]</c>, or <c>[table]</c> for the caller's default project.</summary>
/// <param name="Project">The target project.</param>
/// <param name="Table">The target table (lower case).</param>
public sealed record FlightPutTarget(string Project, string Table)
{
    /// <summary>Parses the descriptor; null and an explanation when it does not name a target.</summary>
    public static FlightPutTarget? Parse(FlightDescriptor? descriptor, Caller caller, out string error)
    {
        error = "";
        if (descriptor is null || descriptor.Type != FlightDescriptorType.Path)
        {
            error = "DoPut needs a path descriptor [project, table] (or [table] for your default project)";
            return null;
        }
        var path = descriptor.Paths.ToList();
        if (path.Count is < 1 or > 2 || path.Any(string.IsNullOrWhiteSpace))
        {
            error = $"DoPut descriptor path must be [project, table] or [table], not [{string.Join(", ", path)}]";
            return null;
        }
        if (path.Count == 2) return new FlightPutTarget(path[0], path[1].ToLowerInvariant());
        if (caller.DefaultProject is null)
        {
            error = "DoPut with path [table] needs a user with a default project; send [project, table]";
            return null;
        }
        return new FlightPutTarget(caller.DefaultProject, path[0].ToLowerInvariant());
    }
}
