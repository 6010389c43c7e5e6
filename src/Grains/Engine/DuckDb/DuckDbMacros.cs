using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// Installs SQL macros and types (<c>CREATE MACRO …; CREATE TYPE …</c>) into a DuckDB database through one of its
/// connections: the one place where functions are defined in a connection, for the silo's buffer database and for
/// the planner's parser database alike. The definitions are the caller's (the query layer owns their text).
/// </summary>
public static class DuckDbMacros
{
    /// <summary>Runs <paramref name="definitions"/> (one or more statements) on <paramref name="connection"/>.</summary>
    /// <exception cref="DuckDbSqlException">DuckDB refused a definition.</exception>
    /// <exception cref="ObjectDisposedException">The connection is closed.</exception>
    public static void Install(DuckDBConnection connection, string definitions)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(definitions);
        if (connection.State != System.Data.ConnectionState.Open)
            throw new ObjectDisposedException(nameof(DuckDBConnection), "the DuckDB connection is closed");
        try
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = definitions;
            cmd.ExecuteNonQuery();
        }
        catch (DuckDBException e)
        {
            throw DuckDbErrorTranslation.ToException(e.Message, "installing macros");
        }
    }

    /// <summary>Installs <paramref name="definitions"/> on a connection rented from <paramref name="pool"/>.</summary>
    internal static void Install(DuckDbConnectionPool pool, string definitions)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var connection = pool.Rent();
        var reusable = true;
        try
        {
            Install(connection, definitions);
        }
        catch
        {
            reusable = false;
            throw;
        }
        finally
        {
            pool.Return(connection, reusable);
        }
    }
}
