using TimeFusion.Sql;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Dml;

/// <summary>
/// A DELETE or UPDATE as one table engine applies it: the effective predicate (the caller's, confined to the
/// engine's project) and the assignments, checked against the schema. This is what the WAL records, so a replay
/// applies exactly what the live call did.
/// </summary>
internal sealed class DmlStatement
{
    /// <summary>Columns an UPDATE may not assign: they place a row (partition, sort order, tenant).</summary>
    private static readonly string[] Protected = [TableSchema.TimestampColumn, TableSchema.DateColumn, TableSchema.ProjectColumn];

    private DmlStatement(WalOperation operation, string predicate, IReadOnlyList<KeyValuePair<string, string>> assignments)
    {
        Operation = operation;
        Predicate = predicate;
        Assignments = assignments;
    }

    /// <summary><see cref="WalOperation.Delete"/> or <see cref="WalOperation.Update"/>.</summary>
    public WalOperation Operation { get; }

    /// <summary>The effective predicate (never null): a row matches when it is true.</summary>
    public string Predicate { get; }

    /// <summary>The assignments (UPDATE only), column name to SQL expression.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Assignments { get; }

    /// <summary>A boolean SQL expression true exactly for matching rows (a NULL predicate does not match, as in SQL).</summary>
    public string MatchSql => $"coalesce(({Predicate}), false)";

    /// <summary>
    /// A SQL condition true for a matching row whose new values break a NOT NULL column (UPDATE only), or null when
    /// no non-nullable column is assigned.
    /// </summary>
    public string? NotNullViolationSql(TableSchema schema)
    {
        var checks = Assignments.Where(a => !schema.Find(a.Key)!.Nullable).Select(a => $"(({a.Value}) IS NULL)").ToList();
        return checks.Count == 0 ? null : $"{MatchSql} AND ({string.Join(" OR ", checks)})";
    }

    /// <summary>The record the WAL keeps.</summary>
    public DmlRecord ToRecord() => new(Predicate, Assignments);

    /// <summary>Rebuilds a logged statement (it was checked when it was logged).</summary>
    public static DmlStatement FromWal(WalOperation operation, DmlRecord record) => new(operation, record.Predicate, record.Assignments);

    /// <summary>
    /// Builds the statement a caller asked for: <paramref name="predicateSql"/> (null = every row) ANDed with
    /// <c>project_id = '<paramref name="project"/>'</c>; for an UPDATE, the assignments checked against the schema.
    /// </summary>
    /// <exception cref="DmlRejectedException">Unbalanced or multi-statement SQL, an unknown, repeated or protected column.</exception>
    public static DmlStatement Create(WalOperation operation, string? predicateSql, IReadOnlyList<KeyValuePair<string, string>>? assignments,
        TableSchema schema, string project)
    {
        var confine = $"{SqlNames.Quote(TableSchema.ProjectColumn)} = {SqlNames.Literal(project)}";
        string predicate;
        if (string.IsNullOrWhiteSpace(predicateSql))
            predicate = confine;
        else
        {
            CheckFragment(predicateSql, "WHERE predicate");
            // Newlines end any line comment inside the fragment; the fragment's brackets are balanced, so the
            // parentheses hold it whole and the project condition cannot be escaped.
            predicate = $"(\n{predicateSql}\n) AND {confine}";
        }
        if (operation == WalOperation.Delete)
        {
            if (assignments is { Count: > 0 })
                throw new DmlRejectedException("a DELETE takes no assignments");
            return new DmlStatement(operation, predicate, []);
        }
        if (operation != WalOperation.Update)
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "a DML statement is a Delete or an Update");
        if (assignments is null || assignments.Count == 0)
            throw new DmlRejectedException("an UPDATE needs at least one assignment");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var checkedAssignments = new List<KeyValuePair<string, string>>(assignments.Count);
        foreach (var (column, expression) in assignments)
        {
            if (schema.Find(column) is null)
                throw new DmlRejectedException($"table '{schema.Name}' has no column '{column}'");
            if (Protected.Contains(column, StringComparer.Ordinal))
                throw new DmlRejectedException($"UPDATE may not assign column '{column}' (it places the row: partition, sort order or project)");
            if (!seen.Add(column))
                throw new DmlRejectedException($"column '{column}' is assigned twice");
            if (string.IsNullOrWhiteSpace(expression))
                throw new DmlRejectedException($"the assignment of column '{column}' is empty");
            CheckFragment(expression, $"SET expression of '{column}'");
            checkedAssignments.Add(new(column, $"\n{expression}\n"));
        }
        return new DmlStatement(operation, predicate, checkedAssignments);
    }

    /// <summary>A fragment must be one expression: brackets balanced (never closing one it did not open), no statement separator.</summary>
    private static void CheckFragment(string sql, string what)
    {
        List<SqlToken> tokens;
        try
        {
            tokens = SqlTokenizer.Tokenize(sql);
        }
        catch (SqlSyntaxException e)
        {
            throw new DmlRejectedException($"invalid {what}: {e.Message}", e);
        }
        var depth = 0;
        foreach (var token in tokens)
        {
            switch (token.Kind)
            {
                case SqlTokenKind.Open:
                    depth++;
                    break;
                case SqlTokenKind.Close when --depth < 0:
                    throw new DmlRejectedException($"invalid {what}: unbalanced '{token.Text(sql)}'");
                case SqlTokenKind.Semicolon:
                    throw new DmlRejectedException($"invalid {what}: ';' is not allowed");
            }
        }
        if (depth != 0)
            throw new DmlRejectedException($"invalid {what}: unbalanced brackets");
    }
}
