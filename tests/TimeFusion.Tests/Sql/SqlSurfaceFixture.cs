using Npgsql;
using TimeFusion.Bench.Peers;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Sql;

/// <summary>
/// One real silo (an admin with a default project, and two one-project users) and one throwaway PostgreSQL 15,
/// shared by the SQL surface tests: DDL, EXPLAIN and the differential corpus.
/// </summary>
public sealed class SqlSurfaceFixture : IAsyncLifetime
{
    public const string Admin = "root", AdminPassword = "root-pw";
    public const string Alice = "alice", AlicePassword = "alice-pw";
    public const string Bob = "bob", BobPassword = "bob-pw";

    private readonly TempDirectory _data = new();

    public RealSiloProcess Silo { get; private set; } = null!;

    /// <summary>PostgreSQL 15 on a free loopback port (user "bench", trust authentication).</summary>
    public PostgresPeer Postgres { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = new RealSiloProcess(_data.Path, new Dictionary<string, string>
        {
            ["TimeFusion:Users:0:Name"] = Admin, ["TimeFusion:Users:0:PasswordOrScramSecret"] = AdminPassword,
            ["TimeFusion:Users:0:IsAdmin"] = "true", ["TimeFusion:Users:0:Projects:0"] = "default",
            ["TimeFusion:Users:1:Name"] = Alice, ["TimeFusion:Users:1:PasswordOrScramSecret"] = AlicePassword, ["TimeFusion:Users:1:Projects:0"] = "alice",
            ["TimeFusion:Users:2:Name"] = Bob, ["TimeFusion:Users:2:PasswordOrScramSecret"] = BobPassword, ["TimeFusion:Users:2:Projects:0"] = "bob",
            ["TimeFusion:Buffer:Threads"] = "1",
        });
        // Both start at once: each waits on its own process.
        var postgres = PostgresPeer.StartAsync();
        await Silo.StartAsync();
        Postgres = await postgres;
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        if (Postgres is not null) await Postgres.DisposeAsync();
        _data.Dispose();
    }

    public Task<NpgsqlConnection> OpenAsync(string user = Admin, string password = AdminPassword) => Silo.OpenAsync(user, password);

    /// <summary>Runs one statement as <paramref name="user"/>; returns rows affected.</summary>
    public async Task<int> ExecuteAsync(string sql, string user = Admin, string password = AdminPassword)
    {
        await using var connection = await OpenAsync(user, password);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>The first column of the first row of <paramref name="sql"/>.</summary>
    public async Task<object?> ScalarAsync(string sql, string user = Admin, string password = AdminPassword)
    {
        await using var connection = await OpenAsync(user, password);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>The SQLSTATE <paramref name="sql"/> fails with.</summary>
    public async Task<string> SqlStateOfAsync(string sql, string user = Admin, string password = AdminPassword)
    {
        var e = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(sql, user, password));
        return e.SqlState;
    }
}

[CollectionDefinition(Name)]
public sealed class SqlSurfaceCollection : ICollectionFixture<SqlSurfaceFixture>
{
    public const string Name = "sql-surface";
}
