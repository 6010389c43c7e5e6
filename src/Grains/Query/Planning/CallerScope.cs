namespace TimeFusion.Query.Planning;

/// <summary>
/// Who runs a statement: a user (or API key) bound to a default project and to the projects it may read and
/// write, or an admin. Planning confines every table reference to projects this scope allows (DESIGN.md §8.3).
/// </summary>
public sealed class CallerScope
{
    private CallerScope(string? defaultProject, IReadOnlySet<string>? readable, IReadOnlySet<string>? writable, bool isAdmin)
    {
        DefaultProject = defaultProject;
        ReadableProjects = readable;
        WritableProjects = writable;
        IsAdmin = isAdmin;
    }

    /// <summary>The project a statement reaches when its WHERE clause names none; null when there is none.</summary>
    public string? DefaultProject { get; }

    /// <summary>The projects this caller may read; null means any.</summary>
    public IReadOnlySet<string>? ReadableProjects { get; }

    /// <summary>The projects this caller may write (INSERT, UPDATE, DELETE, FLUSH); null means any.</summary>
    public IReadOnlySet<string>? WritableProjects { get; }

    /// <summary>
    /// An admin may read and write every project; a statement of an admin that names no project (and has no
    /// default) reaches all projects of the table.
    /// </summary>
    public bool IsAdmin { get; }

    /// <summary>
    /// A user. The default project (when given) is readable and writable; <paramref name="writable"/> null means
    /// the same set as <paramref name="readable"/>.
    /// </summary>
    public static CallerScope User(string? defaultProject, IEnumerable<string> readable, IEnumerable<string>? writable = null)
    {
        ArgumentNullException.ThrowIfNull(readable);
        var r = new HashSet<string>(readable, StringComparer.Ordinal);
        var w = writable is null ? new HashSet<string>(r, StringComparer.Ordinal) : new HashSet<string>(writable, StringComparer.Ordinal);
        if (defaultProject is not null)
        {
            r.Add(defaultProject);
            w.Add(defaultProject);
        }
        return new CallerScope(defaultProject, r, w, isAdmin: false);
    }

    /// <summary>An admin, optionally with a default project.</summary>
    public static CallerScope Admin(string? defaultProject = null) => new(defaultProject, null, null, isAdmin: true);

    /// <summary>The session's time zone (an IANA name) queries run in; null is UTC (<see cref="InTimeZone"/>).</summary>
    public string? TimeZone { get; private init; }

    /// <summary>
    /// This scope with queries run in <paramref name="zone"/> (null or UTC: UTC), as PostgreSQL runs them in the session
    /// <c>TimeZone</c>. Writes run on the grains in UTC: the planner reads their literals that meet a timestamptz in the
    /// zone and writes them back as instants (<see cref="TimestampLiterals"/>); INSERT … VALUES is evaluated in it.
    /// </summary>
    public CallerScope InTimeZone(string? zone) => new(DefaultProject, ReadableProjects, WritableProjects, IsAdmin)
    {
        TimeZone = zone is null || zone.Equals("UTC", StringComparison.OrdinalIgnoreCase) ? null : zone,
    };

    /// <summary>Whether this caller may read <paramref name="project"/>.</summary>
    public bool CanRead(string project) => IsAdmin || ReadableProjects is null || ReadableProjects.Contains(project);

    /// <summary>Whether this caller may write <paramref name="project"/>.</summary>
    public bool CanWrite(string project) => IsAdmin || WritableProjects is null || WritableProjects.Contains(project);
}
