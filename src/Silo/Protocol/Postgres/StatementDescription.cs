using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>What Describe reports about a statement before it runs.</summary>
/// <param name="ParameterTypes">One type per <c>$n</c> parameter, in order (text for any the backend cannot infer).</param>
/// <param name="ResultSchema">The columns the statement returns, or null when it returns no rows (NoData).</param>
public sealed record StatementDescription(IReadOnlyList<PgType> ParameterTypes, Schema? ResultSchema);
