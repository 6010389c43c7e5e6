using Npgsql;

namespace TimeFusion.Tests.Sql;

/// <summary>
/// Tenancy as row-level security over the real PostgreSQL endpoint: a one-project user reads exactly their project's
/// rows by every route a statement can take (no predicate, subquery, CTE, UNION, join, OR, NOT, IN, LIKE), never
/// another project's, and naming another project is 42501; the admin reads every project with or without a predicate.
/// </summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class TenancyRouteTests(SqlSurfaceFixture fixture)
{
    private async Task<long> CountAsync(string sql, string user, string password)
    {
        await using var connection = await fixture.OpenAsync(user, password);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_one_project_user_sees_only_their_rows_by_every_route_and_the_admin_sees_all()
    {
        await fixture.ExecuteAsync("CREATE TABLE tenancy_routes (project_id text NOT NULL, timestamp timestamptz NOT NULL, k int)");
        await fixture.ExecuteAsync("INSERT INTO tenancy_routes VALUES ('alice', '2024-01-01 10:00:00+00', 1), ('alice', '2024-01-01 11:00:00+00', 2), "
            + "('bob', '2024-01-01 10:00:00+00', 1), ('bob', '2024-01-01 11:00:00+00', 3), ('bob', '2024-01-01 12:00:00+00', 4), ('default', '2024-01-01 10:00:00+00', 1)");

        string[] routes =
        [
            "SELECT count(*) FROM tenancy_routes",
            "SELECT count(*) FROM tenancy_routes WHERE project_id = 'bob' OR true",
            "SELECT count(*) FROM tenancy_routes WHERE NOT project_id = 'bob'",
            "SELECT count(*) FROM tenancy_routes WHERE project_id LIKE '%'",
            "SELECT count(*) FROM tenancy_routes WHERE k IN (SELECT k FROM tenancy_routes)",
            "SELECT count(*) FROM (SELECT * FROM tenancy_routes) s",
            "WITH t AS (SELECT * FROM tenancy_routes) SELECT count(*) FROM t",
            "SELECT count(*) FROM (SELECT k FROM tenancy_routes UNION ALL SELECT k FROM tenancy_routes WHERE k > 100) u",
            "SELECT count(*) FROM tenancy_routes a JOIN tenancy_routes b ON a.k = b.k AND a.timestamp = b.timestamp",
        ];
        foreach (var sql in routes)
            Assert.True(await CountAsync(sql, SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword) == 2, sql);
        // UNION (distinct) of the same rows, and a self-join: still alice's rows only.
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM (SELECT k FROM tenancy_routes UNION SELECT k FROM tenancy_routes) u",
            SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword));
        Assert.Equal(3, await CountAsync("SELECT count(*) FROM tenancy_routes", SqlSurfaceFixture.Bob, SqlSurfaceFixture.BobPassword));

        // Naming another project, anywhere in the statement, is refused.
        foreach (var sql in new[]
                 {
                     "SELECT count(*) FROM tenancy_routes WHERE project_id = 'bob'",
                     "SELECT count(*) FROM tenancy_routes WHERE project_id IN ('alice', 'bob')",
                     "WITH t AS (SELECT * FROM tenancy_routes WHERE project_id = 'bob') SELECT count(*) FROM t",
                     "SELECT count(*) FROM tenancy_routes a JOIN tenancy_routes b ON a.k = b.k AND b.project_id = 'bob'",
                 })
            Assert.Equal("42501", await fixture.SqlStateOfAsync(sql, SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword));

        // The admin: every project, with and without a project predicate.
        Assert.Equal(6, await CountAsync("SELECT count(*) FROM tenancy_routes", SqlSurfaceFixture.Admin, SqlSurfaceFixture.AdminPassword));
        Assert.Equal(3, await CountAsync("SELECT count(*) FROM tenancy_routes WHERE project_id = 'bob'", SqlSurfaceFixture.Admin, SqlSurfaceFixture.AdminPassword));
        Assert.Equal(5, await CountAsync("SELECT count(*) FROM tenancy_routes WHERE project_id IN ('alice', 'bob')", SqlSurfaceFixture.Admin, SqlSurfaceFixture.AdminPassword));
    }
}
