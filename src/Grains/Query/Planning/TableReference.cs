using System.Text.Json.Nodes;
using TimeFusion.Tables;

namespace TimeFusion.Query.Planning;

/// <summary>One BASE_TABLE node of a parse tree that names a catalog table, with what applies to it.</summary>
internal sealed class TableReference
{
    public required int Index { get; init; }

    /// <summary>The BASE_TABLE node (mutated in place by rewrites).</summary>
    public required JsonObject Node { get; init; }

    /// <summary>The SELECT_NODE whose FROM clause holds the reference (not through a subquery).</summary>
    public required JsonObject SelectNode { get; init; }

    public required TableSchema Schema { get; init; }

    /// <summary>The name column references use for it: the alias, else the table name as written.</summary>
    public required string Qualifier { get; init; }

    /// <summary>Whether the reference is the whole FROM clause of its SELECT (unqualified columns are its own).</summary>
    public required bool SoleFromItem { get; init; }

    /// <summary>Conjuncts that may filter this reference's rows whatever they contain (WHERE/ON, not through outer joins).</summary>
    public required List<JsonNode> FilterConjuncts { get; init; }

    /// <summary>
    /// Conjuncts that only null-rejecting comparisons may be taken from (e.g. WHERE conditions on the
    /// null-supplying side of an outer join). Project and time constraints use these and <see cref="FilterConjuncts"/>.
    /// </summary>
    public required List<JsonNode> ConstraintOnlyConjuncts { get; init; }

    /// <summary>Whether the reference renames columns by position (<c>t AS x(a, b)</c>).</summary>
    public bool HasColumnAliases => SqlAst.Array(Node, "column_name_alias").Count > 0;

    /// <summary>
    /// The table column a COLUMN_REF names through this reference (schema spelling), or null when it names something
    /// else or cannot be attributed with certainty.
    /// </summary>
    public string? ColumnOf(JsonNode columnRef)
    {
        if (HasColumnAliases) return null;
        var names = SqlAst.ColumnNames(columnRef);
        string candidate;
        if (names.Length == 1 && SoleFromItem) candidate = names[0];
        else if (names.Length == 2 && string.Equals(names[0], Qualifier, StringComparison.OrdinalIgnoreCase)) candidate = names[1];
        else return null;
        return Schema.Columns.FirstOrDefault(c => string.Equals(c.Name, candidate, StringComparison.OrdinalIgnoreCase))?.Name;
    }
}
