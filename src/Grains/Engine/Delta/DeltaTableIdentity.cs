using TimeFusion.Tables;

namespace TimeFusion.Delta;

/// <summary>
/// Which (project, table) a Delta table belongs to, recorded in its configuration as <c>timefusion.project</c> and
/// <c>timefusion.table</c> (full names). Storage paths hash long or unusual names, so two names could in principle
/// share a folder: every open checks the recorded names and refuses a mismatch.
/// </summary>
public static class DeltaTableIdentity
{
    /// <summary>Configuration key holding the full project name.</summary>
    public const string ProjectKey = "timefusion.project";

    /// <summary>Configuration key holding the full table name.</summary>
    public const string TableKey = "timefusion.table";

    /// <summary>The identity recorded in a configuration, or null when the table is not one of ours.</summary>
    public static TableId? Read(IReadOnlyDictionary<string, string> configuration) =>
        configuration.TryGetValue(ProjectKey, out var p) && configuration.TryGetValue(TableKey, out var t)
        && !string.IsNullOrEmpty(p) && !string.IsNullOrEmpty(t)
            ? new TableId(p, t)
            : null;

    /// <summary>Throws unless the snapshot's table belongs to <paramref name="expected"/>.</summary>
    /// <exception cref="DeltaTableIdentityException">Another (project, table), or a table TimeFusion did not create.</exception>
    public static void Verify(DeltaSnapshot snapshot, TableId expected, string location)
    {
        var actual = Read(snapshot.Metadata.Configuration);
        if (actual is null)
            throw new DeltaTableIdentityException(
                $"the Delta table at {location} has no {ProjectKey}/{TableKey} configuration: it was not created by TimeFusion for project '{expected.Project}' table '{expected.Table}'");
        if (!string.Equals(actual.Value.Project, expected.Project, StringComparison.Ordinal)
            || !string.Equals(actual.Value.Table, expected.Table, StringComparison.Ordinal))
            throw new DeltaTableIdentityException(
                $"the Delta table at {location} belongs to project '{actual.Value.Project}' table '{actual.Value.Table}', not to project '{expected.Project}' table '{expected.Table}' (their storage paths collide)");
    }
}
