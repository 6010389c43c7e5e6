namespace TimeFusion.Query.Planning;

/// <summary>How a SELECT runs across grains.</summary>
public enum PlanKind
{
    /// <summary>No table is read: the gateway runs <see cref="QueryPlan.MergeSql"/> itself.</summary>
    GatewayOnly,

    /// <summary>Every table reference reaches the same (project, table): that grain runs <see cref="QueryPlan.GrainSql"/> whole.</summary>
    SingleGrain,

    /// <summary>
    /// One table over several projects with decomposable aggregates: each grain runs <see cref="QueryPlan.GrainSql"/>
    /// (partial aggregates), the gateway unions the results into <see cref="QueryPlan.PartialsRelation"/> and runs
    /// <see cref="QueryPlan.MergeSql"/>.
    /// </summary>
    PartialAggregate,

    /// <summary>
    /// Each table reference's grains run its <see cref="TableScan.ScanSql"/> (filtered, projected rows); the gateway
    /// unions them per reference into <see cref="TableScan.RelationName"/> and runs <see cref="QueryPlan.MergeSql"/>.
    /// </summary>
    RowShipping,
}
