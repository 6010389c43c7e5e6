using TimeFusion.Tables;

namespace TimeFusion.Query.Execution;

/// <summary>One grain's part of a fanned-out statement.</summary>
/// <param name="Grain">The (project, table) that answers.</param>
/// <param name="Sql">The statement, using the canonical table name.</param>
/// <param name="Time">The reachable timestamp range, for pruning.</param>
/// <param name="NewestFirstLimit">LIMIT + OFFSET for newest-first reads, or null.</param>
public readonly record struct GrainPart(TableId Grain, string Sql, TimeRange Time, long? NewestFirstLimit);

/// <summary>
/// Runs the parts of several grains that live on one other silo in one call there; returns their results in the
/// order of the parts (the caller owns them).
/// </summary>
/// <param name="silo">The silo the parts' grains were last seen on.</param>
/// <param name="parts">The parts, at least two.</param>
/// <param name="cancellationToken">Cancels the call.</param>
public delegate Task<IReadOnlyList<QueryBatches>> SiloPartsRunner(string silo, IReadOnlyList<GrainPart> parts, CancellationToken cancellationToken);

/// <summary>
/// How a <see cref="PlanRunner"/> groups a fan-out's grain calls: the parts of grains known to live on the same other
/// silo go there together through <see cref="RunOnSilo"/> (one round trip instead of one per grain); grains of this
/// silo, or not located yet, are called one by one.
/// </summary>
/// <param name="RemoteSiloOf">The other silo a grain was last seen on, or null (this silo, or not known).</param>
/// <param name="RunOnSilo">Runs a group of parts on one silo.</param>
public sealed record GrainCallRouting(Func<TableId, string?> RemoteSiloOf, SiloPartsRunner RunOnSilo);
