using DuckDB.NET.Data;

namespace TimeFusion.Buffer;

/// <summary>Small helpers to run SQL text on a DuckDB.NET connection.</summary>
internal static class DuckDbCommands
{
    /// <summary>Runs a statement and returns DuckDB's rows-changed count.</summary>
    public static long Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    /// <summary>Runs a query and returns the first column of the first row.</summary>
    public static object? Scalar(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>Rolls back the connection's transaction if one is open; a failure here means the connection is unusable.</summary>
    public static bool TryRollback(DuckDBConnection connection)
    {
        try
        {
            Execute(connection, "ROLLBACK");
            return true;
        }
        catch (DuckDBException e) when (e.Message.Contains("no transaction is active", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        catch (DuckDBException)
        {
            return false;
        }
    }
}
