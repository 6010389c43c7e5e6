namespace TimeFusion.Query.Planning;

/// <summary>
/// The plan of one SELECT: which grains run which SQL and what the gateway runs over their results.
/// All SQL is DuckDB SQL; a table is referred to by its canonical name, which the executor binds to the grain's
/// snapshot (e.g. a CTE or TEMP view over its buffer rows and Delta files). Every SQL text assumes the session time
/// zone is UTC. A scan may reach no project (contradictory <c>project_id</c> conditions): the executor then gives
/// the relation the grain SQL's shape over an empty table of the schema (e.g. <c>SELECT * FROM (&lt;grain sql&gt;) LIMIT 0</c>).
/// </summary>
public sealed class QueryPlan
{
    /// <summary>The relation name the union of the grains' partial results gets in <see cref="PlanKind.PartialAggregate"/> plans.</summary>
    public const string PartialsRelation = "__partials";

    internal QueryPlan(PlanKind kind, string sql, IReadOnlyList<TableScan> scans, string? grainSql, string? mergeSql,
        IReadOnlyList<string> outputColumns, DateTimeOffset now, long? newestFirstLimit, string? fallbackReason, StreamedPlan? stream = null)
    {
        Stream = stream;
        Kind = kind;
        Sql = sql;
        Scans = scans;
        GrainSql = grainSql;
        MergeSql = mergeSql;
        OutputColumns = outputColumns;
        Now = now;
        NewestFirstLimit = newestFirstLimit;
        FallbackReason = fallbackReason;
    }

    /// <summary>How the statement runs.</summary>
    public PlanKind Kind { get; }

    /// <summary>
    /// The statement as planned: table names canonical, <c>now()</c>/<c>current_timestamp</c>/<c>current_date</c>
    /// replaced by the planning instant (<see cref="Now"/>) so that every grain sees the same time.
    /// </summary>
    public string Sql { get; }

    /// <summary>Every table reference, in parse order.</summary>
    public IReadOnlyList<TableScan> Scans { get; }

    /// <summary>
    /// <see cref="PlanKind.SingleGrain"/>: the whole statement (= <see cref="Sql"/>), run by the one grain.
    /// <see cref="PlanKind.PartialAggregate"/>: the partial aggregation each grain of <c>Scans[0]</c> runs
    /// (columns <c>__g0…</c> for group keys, <c>__a0…</c> for partial aggregates). Null otherwise.
    /// </summary>
    public string? GrainSql { get; }

    /// <summary>
    /// What the gateway runs: <see cref="PlanKind.GatewayOnly"/>: the statement; <see cref="PlanKind.PartialAggregate"/>:
    /// the final aggregation over <see cref="PartialsRelation"/>; <see cref="PlanKind.RowShipping"/>: the statement
    /// over the relations <see cref="TableScan.RelationName"/>. Null for <see cref="PlanKind.SingleGrain"/>.
    /// </summary>
    public string? MergeSql { get; }

    /// <summary>The result column names, as DuckDB names them for the statement.</summary>
    public IReadOnlyList<string> OutputColumns { get; }

    /// <summary>The instant that stands for <c>now()</c> in every SQL text of this plan.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>
    /// Set when the statement (as each grain runs it) orders by <c>timestamp DESC</c> and returns at most this many
    /// rows (limit + offset): grains may read files newest first and stop early.
    /// </summary>
    public long? NewestFirstLimit { get; }

    /// <summary>
    /// Set on <see cref="PlanKind.RowShipping"/> plans over one table's several grains whose rows can stream from the
    /// grains to the door (concatenated or merged by a sort key) instead of being gathered here; null otherwise.
    /// </summary>
    public StreamedPlan? Stream { get; }

    /// <summary>Why a statement over several grains ships rows instead of partial aggregates (null when it does not).</summary>
    public string? FallbackReason { get; }

    /// <summary>
    /// The session time zone every SQL text of this plan runs in, on the grains and in the merge (null: UTC); the time
    /// bounds were evaluated in it too.
    /// </summary>
    public string? TimeZone { get; internal init; }

    /// <summary>
    /// Positions of the result columns DuckDB's binder types JSON (a JSON column, <c>-&gt;</c>, <c>::jsonb</c>), which
    /// PostgreSQL types jsonb: the executors' results export JSON as plain utf8, so these are marked
    /// <c>arrow.json</c> on the result (<see cref="Wire.ArrowJsonFields"/>).
    /// </summary>
    public IReadOnlyList<int> JsonColumns { get; internal init; } = [];
}
