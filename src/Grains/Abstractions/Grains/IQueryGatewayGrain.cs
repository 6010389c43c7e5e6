using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// Plans every statement and routes it (DESIGN.md §1, §4): to one table grain when it touches one (project, table),
/// or fanned out to several with the results merged here. A stateless worker: one or more per silo.
/// </summary>
public interface IQueryGatewayGrain : IGrainWithIntegerKey
{
    /// <summary>Runs a SELECT; returns its rows.</summary>
    Task<ArrowBatches> QueryAsync(string sql, Caller caller);

    /// <summary>Runs a statement that changes data (INSERT … VALUES, UPDATE, DELETE, CREATE TABLE, FLUSH); returns rows affected.</summary>
    Task<long> ExecuteAsync(string sql, Caller caller);

    /// <summary>Inserts a batch into (project, table) after checking the caller may write that project.</summary>
    Task<long> InsertAsync(string project, string table, RecordBatch batch, Caller caller);
}

/// <summary>Who is asking: a user bound to projects, or an admin.</summary>
/// <param name="DefaultProject">The project unscoped statements use.</param>
/// <param name="Projects">Projects the caller may read and write; ignored for admins.</param>
/// <param name="IsAdmin">May read and write every project.</param>
[GenerateSerializer, Immutable]
public sealed record Caller([property: Id(0)] string? DefaultProject, [property: Id(1)] IReadOnlyList<string> Projects, [property: Id(2)] bool IsAdmin)
{
    /// <summary>An admin caller.</summary>
    public static Caller Admin(string? defaultProject = null) => new(defaultProject, [], true);

    /// <summary>A user of one project.</summary>
    public static Caller ForProject(string project) => new(project, [project], false);
}
