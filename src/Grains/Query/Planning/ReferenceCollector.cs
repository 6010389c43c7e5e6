using System.Collections.Immutable;
using System.Text.Json.Nodes;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Walks a SELECT parse tree and finds every reference to a catalog table — through joins, subqueries (in FROM
/// and in expressions), CTE bodies and set operations — telling CTE names (scoped as DuckDB scopes them) from
/// tables. Refuses what it cannot account for: unknown tables (42P01), table functions that read files or engine
/// state (42501), time travel and unknown node kinds (0A000). As a backstop, every BASE_TABLE node in the tree
/// must have been accounted for.
/// </summary>
internal sealed class ReferenceCollector
{
    private static readonly HashSet<string> PlainSchemas = new(StringComparer.OrdinalIgnoreCase) { "", "main", "public" };

    private readonly ICatalogView _catalog;
    private readonly List<TableReference> _tables = [];
    private int _cteReferences;
    private int _tableFunctions;

    private ReferenceCollector(ICatalogView catalog) => _catalog = catalog;

    /// <summary>The table references, in parse order.</summary>
    public IReadOnlyList<TableReference> Tables => _tables;

    /// <summary>Collects the references of the query node <paramref name="queryNode"/>.</summary>
    public static ReferenceCollector Collect(JsonObject queryNode, ICatalogView catalog)
    {
        var collector = new ReferenceCollector(catalog);
        collector.VisitQuery(queryNode, ImmutableHashSet.Create<string>(StringComparer.OrdinalIgnoreCase));
        var baseTables = SqlAst.Objects(queryNode).Count(o => SqlAst.Type(o) == "BASE_TABLE");
        var tableFunctions = SqlAst.Objects(queryNode).Count(o => SqlAst.Type(o) == "TABLE_FUNCTION");
        if (baseTables != collector._tables.Count + collector._cteReferences || tableFunctions != collector._tableFunctions)
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "the statement uses a construct the planner does not support (a table reference it cannot place)");
        return collector;
    }

    private void VisitQuery(JsonNode? node, ImmutableHashSet<string> scope)
    {
        if (node is null) return;
        scope = VisitCtes(node, scope);
        switch (SqlAst.Type(node))
        {
            case "SELECT_NODE":
                VisitSelect((JsonObject)node, scope);
                break;
            case "SET_OPERATION_NODE":
                VisitQuery(node["left"], scope);
                VisitQuery(node["right"], scope);
                foreach (var child in SqlAst.Array(node, "children")) VisitQuery(child, scope);
                break;
            case "RECURSIVE_CTE_NODE":
                VisitQuery(node["left"], scope);
                VisitQuery(node["right"], scope);
                break;
            default:
                throw new SqlPlanningException(SqlState.FeatureNotSupported, $"query node '{SqlAst.Type(node)}' is not supported");
        }
        foreach (var modifier in SqlAst.Array(node, "modifiers")) VisitExpression(modifier, scope);
    }

    private ImmutableHashSet<string> VisitCtes(JsonNode node, ImmutableHashSet<string> scope)
    {
        foreach (var entry in SqlAst.Array(node["cte_map"], "map"))
        {
            var name = SqlAst.Str(entry, "key");
            var body = entry?["value"]?["query"]?["node"];
            // A recursive CTE sees itself; a plain one does not (a reference to its own name is a table).
            var bodyScope = SqlAst.Type(body) == "RECURSIVE_CTE_NODE" ? scope.Add(name) : scope;
            VisitQuery(body, bodyScope);
            scope = scope.Add(name);
        }
        return scope;
    }

    private void VisitSelect(JsonObject select, ImmutableHashSet<string> scope)
    {
        var from = select["from_table"];
        var where = SqlAst.Conjuncts(select["where_clause"]);
        VisitFrom(from, select, scope, SqlAst.Type(from) == "BASE_TABLE", where, []);
        foreach (var key in new[] { "select_list", "where_clause", "group_expressions", "having", "qualify" })
            VisitExpression(select[key], scope);
    }

    // filter: conjuncts that may filter any reference below (see TableReference.FilterConjuncts);
    // constraintOnly: conjuncts usable only as null-rejecting constraints below.
    private void VisitFrom(JsonNode? from, JsonObject select, ImmutableHashSet<string> scope, bool sole,
        List<JsonNode> filter, List<JsonNode> constraintOnly)
    {
        if (from is null) return;
        switch (SqlAst.Type(from))
        {
            case "BASE_TABLE":
                Resolve((JsonObject)from, select, scope, sole, filter, constraintOnly);
                break;
            case "JOIN":
                VisitJoin((JsonObject)from, select, scope, filter, constraintOnly);
                break;
            case "SUBQUERY":
                VisitQuery(from["subquery"]?["node"], scope);
                break;
            case "TABLE_FUNCTION":
                var name = SqlAst.Str(from["function"], "function_name");
                if (!SqlFunctions.AllowedTableFunctions.Contains(name))
                    throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"table function '{name}' is not allowed; query tables by name");
                _tableFunctions++;
                VisitExpression(from["function"], scope);
                break;
            case "EXPRESSION_LIST":
                VisitExpression(from["values"], scope);
                break;
            case "EMPTY":
                break;
            case "PIVOT":
                // Conditions above a PIVOT speak of its output columns, not of its source's.
                VisitFrom(from["source"], select, scope, sole: false, [], []);
                foreach (var (key, child) in (JsonObject)from)
                    if (key != "source") VisitExpression(child, scope);
                break;
            default:
                throw new SqlPlanningException(SqlState.FeatureNotSupported, $"'{SqlAst.Type(from)}' in FROM is not supported");
        }
    }

    private void VisitJoin(JsonObject join, JsonObject select, ImmutableHashSet<string> scope, List<JsonNode> filter, List<JsonNode> constraintOnly)
    {
        var on = SqlAst.Conjuncts(join["condition"]);
        VisitExpression(join["condition"], scope);
        var refType = SqlAst.Str(join, "ref_type");
        var joinType = SqlAst.Str(join, "join_type");
        List<JsonNode> none = [];
        List<JsonNode> Plus(List<JsonNode> a, List<JsonNode> b) => [.. a, .. b];

        // Which conditions reach each side (see TableReference): a WHERE/ON condition filters a side's rows only if
        // no outer join lies between; through a null-supplying side only null-rejecting constraints survive.
        (List<JsonNode> F, List<JsonNode> C) left, right;
        if (refType is "REGULAR" or "CROSS" or "NATURAL" or "DEPENDENT")
        {
            switch (joinType)
            {
                case "INNER":
                    left = (Plus(filter, on), constraintOnly);
                    right = (Plus(filter, on), constraintOnly);
                    break;
                case "LEFT":
                    left = (filter, constraintOnly);
                    right = (on, Plus(constraintOnly, filter));
                    break;
                case "RIGHT":
                    left = (on, Plus(constraintOnly, filter));
                    right = (filter, constraintOnly);
                    break;
                case "SEMI":
                case "ANTI":
                    left = (filter, constraintOnly);
                    right = (on, none);
                    break;
                default:
                    // FULL OUTER and anything else: nothing narrows either side.
                    left = (none, Plus(constraintOnly, filter));
                    right = (none, Plus(constraintOnly, filter));
                    break;
            }
        }
        else
        {
            // ASOF, POSITIONAL, …: removing rows changes which rows pair up; pass nothing down.
            left = (none, none);
            right = (none, none);
        }
        VisitFrom(join["left"], select, scope, sole: false, left.F, left.C);
        VisitFrom(join["right"], select, scope, sole: false, right.F, right.C);
    }

    private void Resolve(JsonObject node, JsonObject select, ImmutableHashSet<string> scope, bool sole,
        List<JsonNode> filter, List<JsonNode> constraintOnly)
    {
        var name = SqlAst.Str(node, "table_name");
        var schemaName = SqlAst.Str(node, "schema_name");
        var catalogName = SqlAst.Str(node, "catalog_name");
        if (schemaName.Length == 0 && catalogName.Length == 0 && scope.Contains(name))
        {
            _cteReferences++;
            return;
        }
        var written = catalogName.Length > 0 ? $"{catalogName}.{schemaName}.{name}" : schemaName.Length > 0 ? $"{schemaName}.{name}" : name;
        if (catalogName.Length > 0 || !PlainSchemas.Contains(schemaName))
            throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{written}\" does not exist");
        var schema = _catalog.Find(name)
            ?? throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{written}\" does not exist");
        if (node["at_clause"] is JsonObject)
            throw new SqlPlanningException(SqlState.FeatureNotSupported, $"time travel (AT …) on \"{written}\" is not supported");
        var alias = SqlAst.Str(node, "alias");
        _tables.Add(new TableReference
        {
            Index = _tables.Count,
            Node = node,
            SelectNode = select,
            Schema = schema,
            Qualifier = alias.Length > 0 ? alias : name,
            SoleFromItem = sole,
            FilterConjuncts = filter,
            ConstraintOnlyConjuncts = constraintOnly,
        });
    }

    private void VisitExpression(JsonNode? expression, ImmutableHashSet<string> scope)
    {
        foreach (var o in SqlAst.ExpressionObjects(expression))
        {
            if (SqlAst.Class(o) == "SUBQUERY") VisitQuery(o["subquery"]?["node"], scope);
        }
    }
}
