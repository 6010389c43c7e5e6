using DuckDB.NET.Data;
using TimeFusion.Grains;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Statements;

/// <summary>
/// Reads a <c>CREATE TABLE</c> statement with DuckDB's own parser and binder: the statement runs in a private,
/// empty in-memory database, and the resulting columns are read back from <c>information_schema</c>.
/// </summary>
public static class CreateTableParser
{
    /// <summary>The table the statement defines.</summary>
    /// <exception cref="SqlPlanningException">Bad syntax (42601), or a column type TimeFusion does not store (0A000).</exception>
    public static TableDefinition Parse(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using (var setup = connection.CreateCommand())
        {
            // PostgreSQL's type names DuckDB lacks (jsonb) must read here as they do in queries.
            setup.CommandText = "SET enable_external_access = false; " + Execution.PostgresCompatibilityFunctions.CreateTypesSql;
            setup.ExecuteNonQuery();
        }
        try
        {
            using var create = connection.CreateCommand();
            create.CommandText = sql;
            create.ExecuteNonQuery();
        }
        catch (DuckDBException e)
        {
            // Mapped as every DuckDB error is (an unknown type is 42704, bad syntax 42601), without DuckDB's advice.
            throw DuckDbErrors.ToPlanningException(e.Message, "CREATE TABLE");
        }
        using var columns = connection.CreateCommand();
        columns.CommandText = "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns ORDER BY ordinal_position";
        using var reader = columns.ExecuteReader();
        string? table = null;
        var result = new List<ColumnDefinition>();
        while (reader.Read())
        {
            table ??= reader.GetString(0).ToLowerInvariant();
            var name = reader.GetString(1);
            var type = reader.GetString(2).ToUpperInvariant() switch
            {
                "VARCHAR" => ColumnType.Utf8,
                "JSON" => ColumnType.Json,
                "BOOLEAN" => ColumnType.Boolean,
                "INTEGER" or "SMALLINT" or "TINYINT" => ColumnType.Int32,
                "BIGINT" => ColumnType.Int64,
                "DOUBLE" or "FLOAT" or "REAL" => ColumnType.Float64,
                "TIMESTAMP WITH TIME ZONE" or "TIMESTAMP" => ColumnType.TimestampUs,
                "DATE" => ColumnType.Date,
                "VARCHAR[]" => ColumnType.Utf8List,
                "BLOB" => ColumnType.Binary,
                var other => throw new SqlPlanningException(SqlState.FeatureNotSupported, $"column '{name}': type {other} is not supported"),
            };
            result.Add(new ColumnDefinition(name, type, reader.GetString(3) == "YES"));
        }
        if (table is null) throw new SqlPlanningException(SqlState.SyntaxError, "CREATE TABLE defined no columns");
        return new TableDefinition(table, result);
    }
}
