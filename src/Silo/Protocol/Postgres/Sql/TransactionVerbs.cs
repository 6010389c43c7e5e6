namespace TimeFusion.Silo.Protocol.Postgres.Sql;

/// <summary>What the protocol layer needs to know of transaction statements (the backend runs them).</summary>
internal static class TransactionVerbs
{
    /// <summary>COMMIT, END, ROLLBACK, ABORT: the statements a failed block still accepts.</summary>
    public static bool EndsBlock(string verb) => verb is "COMMIT" or "END" or "ROLLBACK" or "ABORT";

    /// <summary>
    /// Whether a simple query's statements run as one implicit transaction: they include an INSERT, and every one is an
    /// INSERT, a query or a session setting (a statement a block refuses, or a transaction statement of its own, keeps
    /// them running one by one as before).
    /// </summary>
    public static bool CanRunImplicitly(IReadOnlyList<ClassifiedStatement> statements) =>
        statements.Any(s => s is { Kind: StatementKind.Other, Verb: "INSERT" }) && statements.All(RunsInImplicitBlock);

    /// <summary>An INSERT, a query or a session setting: what an implicit transaction holds or lets through.</summary>
    public static bool RunsInImplicitBlock(ClassifiedStatement s) =>
        s.Kind is StatementKind.Empty or StatementKind.Set or StatementKind.Show or StatementKind.Reset
        || s is { Kind: StatementKind.Other, Verb: "INSERT" or "SELECT" or "WITH" or "VALUES" or "TABLE" or "(" };
}
