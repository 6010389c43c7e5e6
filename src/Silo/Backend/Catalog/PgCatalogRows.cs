using System.Globalization;
using System.Text;
using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Backend.Catalog;

/// <summary>
/// The rows of the catalog: the PostgreSQL types the endpoint speaks (their real OIDs and names, from
/// <see cref="PgType"/>), and, per refresh, one <c>pg_class</c> row, one row type and one <c>pg_attribute</c>
/// row per column for each table in the TimeFusion catalog, and one role per configured user.
/// </summary>
internal static class PgCatalogRows
{
    /// <summary>The first OID handed to tables (PostgreSQL's first user OID); each table takes two (relation, row type).</summary>
    public const long FirstTableOid = 16384;

    /// <summary>OID of the first admin user (PostgreSQL's bootstrap superuser); other users get 20000 + index.</summary>
    public const long BootstrapRoleOid = 10;

    // Pseudo-types Npgsql asks for by name (record, void, unknown) besides the base types.
    private static readonly (long Oid, string Name, string SqlName, long Elem)[] PseudoTypes =
    [
        (2249, "record", "record", 0),
        (2287, "_record", "record[]", 2249),
        (2278, "void", "void", 0),
    ];

    /// <summary>INSERTs for <c>pg_type</c> (base and pseudo types) and <c>pg_proc</c> (<c>array_recv</c>, which marks arrays).</summary>
    public static string StaticTypesSql()
    {
        var sql = new StringBuilder();
        sql.Append("INSERT INTO tfpg.pg_proc VALUES (").Append(PgCatalogSchema.ArrayRecvProc)
            .Append(", 'array_recv', 11, 10, 12, 'f', false, 2277, 3, '2281 26 23');\n");
        foreach (var type in PgType.All.OrderBy(t => t.Oid))
        {
            var pseudo = type.Oid == PgType.Unknown.Oid;
            var array = PgType.ArrayOfElement(type);
            TypeRow(sql, type.Oid, type.Name, type.Length, pseudo ? "p" : "b", Category(type), type.ElementOid, array?.Oid ?? 0,
                type.IsArray ? PgCatalogSchema.ArrayRecvProc : 0, SqlName(type), relid: 0);
        }
        foreach (var (oid, name, sqlName, elem) in PseudoTypes)
            TypeRow(sql, oid, name, -1, "p", "P", elem, 0, elem != 0 ? PgCatalogSchema.ArrayRecvProc : 0, sqlName, relid: 0);
        return sql.ToString();
    }

    /// <summary>DELETE and INSERT statements replacing the tables' and users' rows.</summary>
    public static string DynamicSql(IReadOnlyList<TableDefinition> tables, IReadOnlyList<PostgresUser> users)
    {
        var sql = new StringBuilder();
        sql.Append("DELETE FROM tfpg.pg_class; DELETE FROM tfpg.pg_attribute; DELETE FROM tfpg.pg_roles;\n");
        sql.Append("DELETE FROM tfpg.pg_type WHERE typtype = 'c';\n");
        var owner = users.FirstOrDefault(u => u.IsAdmin) is null ? 0 : BootstrapRoleOid;
        var roleOid = 20000L;
        var firstAdminSeen = false;
        foreach (var user in users)
        {
            var oid = user.IsAdmin && !firstAdminSeen ? BootstrapRoleOid : roleOid++;
            firstAdminSeen |= user.IsAdmin;
            sql.Append("INSERT INTO tfpg.pg_roles VALUES (").Append(SqlNames.Literal(user.Name)).Append(", ")
                .Append(Bool(user.IsAdmin)).Append(", true, ").Append(Bool(user.IsAdmin)).Append(", ").Append(Bool(user.IsAdmin))
                .Append(", true, false, -1, '********', NULL, ").Append(Bool(user.IsAdmin)).Append(", NULL, ").Append(oid).Append(");\n");
        }
        for (var i = 0; i < tables.Count; i++)
        {
            var table = tables[i];
            var relOid = FirstTableOid + 2L * i;
            var rowTypeOid = relOid + 1;
            // The date partition column TimeFusion put first (CREATE TABLE did not declare it) is numbered last, as
            // SELECT * shows it: the declared columns then have PostgreSQL's attnums for the same CREATE TABLE.
            var full = TableSchema.Create(table.Name, table.Columns).ToArrowSchema();
            var schema = full.FieldsList.Count > 1 && full.FieldsList[0].Name == TableSchema.DateColumn
                ? new Apache.Arrow.Schema([.. full.FieldsList.Skip(1), full.FieldsList[0]], null)
                : full;
            sql.Append("INSERT INTO tfpg.pg_class VALUES (").Append(relOid).Append(", ").Append(SqlNames.Literal(table.Name))
                .Append(", ").Append(PgCatalogSchema.PublicNamespace).Append(", ").Append(rowTypeOid).Append(", 0, ").Append(owner)
                .Append(", ").Append(PgCatalogSchema.HeapAccessMethod).Append(", ").Append(relOid)
                .Append(", 0, 0, -1, 0, 0, false, false, 'p', 'r', ").Append(schema.FieldsList.Count)
                .Append(", 0, false, false, false, false, false, true, 'd', false, 0, 0, 0, NULL, NULL, NULL);\n");
            TypeRow(sql, rowTypeOid, table.Name, -1, "c", "C", 0, 0, 0, table.Name, relOid);
            for (var c = 0; c < schema.FieldsList.Count; c++)
            {
                var field = schema.FieldsList[c];
                // JSON columns are jsonb to PostgreSQL clients (DESIGN.md §7); their Arrow storage is plain utf8.
                var type = table.Columns.Any(d => d.Name == field.Name && d.Type == ColumnType.Json)
                    ? PgType.Jsonb
                    : PgTypeMapping.TryForField(field) ?? PgType.Text;
                sql.Append("INSERT INTO tfpg.pg_attribute VALUES (").Append(relOid).Append(", ").Append(SqlNames.Literal(field.Name))
                    .Append(", ").Append(type.Oid).Append(", -1, ").Append(type.Length).Append(", ").Append(c + 1)
                    .Append(", ").Append(type.IsArray ? 1 : 0).Append(", -1, -1, ").Append(Bool(type.Length is 1 or 2 or 4 or 8))
                    .Append(", 'i', 'x', '', ").Append(Bool(!field.IsNullable))
                    .Append(", false, false, '', '', false, true, 0, ").Append(IsCollatable(type) ? 100 : 0).Append(", NULL, NULL, NULL, NULL);\n");
            }
        }
        return sql.ToString();
    }

    /// <summary>An INSERT of one <c>pg_settings</c> row.</summary>
    public static string SettingSql(string name, string setting, string category) =>
        $"INSERT INTO tfpg.pg_settings VALUES ({SqlNames.Literal(name)}, {SqlNames.Literal(setting)}, NULL, {SqlNames.Literal(category)}, NULL, 'user', 'string', 'default');\n";

    private static void TypeRow(StringBuilder sql, long oid, string name, int length, string typtype, string category,
        long elem, long array, long receive, string sqlName, long relid)
    {
        var collation = name is "text" or "varchar" or "bpchar" or "name" or "_text" or "_varchar" or "_bpchar" ? 100 : 0;
        // Input/output functions as PostgreSQL names them: pgjdbc tells arrays by typinput = 'array_in'::regproc.
        var io = typtype == "c" ? "record" : elem != 0 && name.StartsWith('_') ? "array" : name;
        sql.Append("INSERT INTO tfpg.pg_type VALUES (").Append(oid).Append(", ").Append(SqlNames.Literal(name)).Append(", ")
            .Append(typtype == "c" ? PgCatalogSchema.PublicNamespace : PgCatalogSchema.PgCatalogNamespace).Append(", 10, ")
            .Append(length.ToString(CultureInfo.InvariantCulture)).Append(", ").Append(Bool(length is 1 or 2 or 4 or 8)).Append(", '")
            .Append(typtype).Append("', '").Append(category).Append("', false, true, ',', ").Append(relid).Append(", NULL, ")
            .Append(elem).Append(", ").Append(array).Append(", ").Append(SqlNames.Literal(io + "_in")).Append(", ")
            .Append(SqlNames.Literal(io + "_out")).Append(", ").Append(receive).Append(", 0, 0, 0, 0, 'i', 'x', false, 0, -1, ")
            .Append(elem != 0 ? 1 : 0).Append(", ").Append(collation).Append(", NULL, NULL, NULL, ").Append(SqlNames.Literal(sqlName)).Append(");\n");
    }

    private static string Bool(bool b) => b ? "true" : "false";

    private static bool IsCollatable(PgType type) =>
        type.Oid == PgType.Text.Oid || type.Oid == PgType.Varchar.Oid || type.Oid == PgType.Bpchar.Oid
        || type.ElementOid == PgType.Text.Oid || type.ElementOid == PgType.Varchar.Oid;

    private static string Category(PgType type)
    {
        if (type.IsArray) return "A";
        return type.Name switch
        {
            "bool" => "B",
            "int2" or "int4" or "int8" or "float4" or "float8" or "numeric" or "oid" => "N",
            "text" or "varchar" or "bpchar" or "name" or "char" => "S",
            "date" or "time" or "timestamp" or "timestamptz" => "D",
            "interval" => "T",
            "unknown" => "X",
            _ => "U",
        };
    }

    /// <summary>The name <c>format_type</c> and <c>information_schema.columns.data_type</c> give a type.</summary>
    private static string SqlName(PgType type)
    {
        if (type.Element is { } element) return SqlName(element) + "[]";
        return type.Name switch
        {
            "bool" => "boolean",
            "int2" => "smallint",
            "int4" => "integer",
            "int8" => "bigint",
            "float4" => "real",
            "float8" => "double precision",
            "varchar" => "character varying",
            "bpchar" => "character",
            "char" => "\"char\"",
            "time" => "time without time zone",
            "timestamp" => "timestamp without time zone",
            "timestamptz" => "timestamp with time zone",
            _ => type.Name,
        };
    }
}
