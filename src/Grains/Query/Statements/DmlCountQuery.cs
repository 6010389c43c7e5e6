using System.Text.RegularExpressions;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;

namespace TimeFusion.Query.Statements;

/// <summary>
/// The <c>SELECT count(*)</c> over the rows an UPDATE or DELETE would touch: the same table, alias and WHERE, read with the
/// caller's scope as any query. A transaction block runs it when it holds a DML statement until COMMIT, to check the
/// statement at once (unknown table or column, bad predicate) and to answer its row count.
/// </summary>
public static partial class DmlCountQuery
{
    /// <summary>The count query of <paramref name="sql"/> (an UPDATE or DELETE, by <paramref name="isUpdate"/>).</summary>
    /// <exception cref="SqlPlanningException">A form DML does not support (0A000) or a syntax error (42601).</exception>
    public static string Of(string sql, bool isUpdate)
    {
        var parts = isUpdate ? DmlTextSplitter.SplitUpdate(sql) : DmlTextSplitter.SplitDelete(sql);
        var table = string.Join('.', parts.TableName.Select(Name));
        var alias = parts.Alias is null ? "" : " AS " + Name(parts.Alias);
        var where = parts.Predicate is null ? "" : " WHERE " + parts.Predicate;
        return $"SELECT count(*) FROM {table}{alias}{where}";
    }

    // A plain word is written back as it was (PostgreSQL folds it); anything else quoted.
    private static string Name(string identifier) => PlainWord().IsMatch(identifier) ? identifier : SqlNames.Quote(identifier);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex PlainWord();
}
