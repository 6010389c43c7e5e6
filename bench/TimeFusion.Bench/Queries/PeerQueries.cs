using DuckDB.NET.Data;
using Npgsql;

namespace TimeFusion.Bench.Queries;

/// <summary>Runs a query on DuckDB or PostgreSQL and counts the rows it returns.</summary>
public static class PeerQueries
{
    public static Task<long> DuckDbAsync(DuckDBConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        long n = 0;
        while (reader.Read()) n++;
        return Task.FromResult(n);
    }

    public static async Task<long> PostgresAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        long n = 0;
        while (await reader.ReadAsync()) n++;
        return n;
    }
}
