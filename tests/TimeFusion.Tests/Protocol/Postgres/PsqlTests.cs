using Npgsql;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Protocol.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PsqlTests(PostgresServerFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Runs_several_statements_from_one_command()
    {
        var result = await PsqlRunner.RunAsync(fixture, "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1 AS first_col; SELECT 'two' AS second_col");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("first_col", result.Stdout);
        Assert.Contains("second_col", result.Stdout);
        Assert.Contains("two", result.Stdout);
        Assert.Contains("(1 row)", result.Stdout);
    }

    [Fact]
    public async Task Expanded_output()
    {
        var result = await PsqlRunner.RunAsync(fixture, "-c", "\\x", "-c", "SELECT 42 AS answer, 'forty two' AS words, TIMESTAMPTZ '2024-05-06 07:08:09.5+00' AS at");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("-[ RECORD 1 ]", result.Stdout);
        Assert.Matches(@"answer\s*\|\s*42", result.Stdout);
        Assert.Matches(@"words\s*\|\s*forty two", result.Stdout);
        Assert.Matches(@"at\s*\|\s*2024-05-06 07:08:09\.5\+00", result.Stdout);
    }

    [Fact]
    public async Task Copy_from_a_file_with_backslash_copy_and_from_stdin_in_a_script()
    {
        fixture.Backend.Exec("CREATE OR REPLACE TABLE psql_copy (id INTEGER, name VARCHAR, happened TIMESTAMPTZ)");
        using var dir = new Infrastructure.TempDirectory();
        var csv = Path.Combine(dir.Path, "rows.csv");
        await File.WriteAllTextAsync(csv, "id,name,happened\n1,alpha,2024-01-01 00:00:00+00\n2,\"be, ta\",2024-01-02 00:00:00+00\n3,,\n");
        var copy = await PsqlRunner.RunAsync(fixture, "-v", "ON_ERROR_STOP=1", "-c", $"\\copy psql_copy from '{csv}' with (format csv, header)");
        Assert.True(copy.ExitCode == 0, copy.Stderr);
        Assert.Contains("COPY 3", copy.Stdout);

        var script = Path.Combine(dir.Path, "load.sql");
        await File.WriteAllTextAsync(script, "COPY psql_copy (id, name) FROM STDIN;\n10\tten\n11\t\\N\n\\.\nSELECT count(*) AS n FROM psql_copy;\n");
        var run = await PsqlRunner.RunAsync(fixture, "-v", "ON_ERROR_STOP=1", "-f", script);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("COPY 2", run.Stdout);
        Assert.Equal(5L, fixture.Backend.Scalar("SELECT count(*) FROM psql_copy"));
        Assert.Equal("be, ta", fixture.Backend.Scalar("SELECT name FROM psql_copy WHERE id = 2"));

        var export = await PsqlRunner.RunAsync(fixture, "-v", "ON_ERROR_STOP=1", "-c", $"\\copy (SELECT id, name FROM psql_copy WHERE id < 3 ORDER BY id) to '{Path.Combine(dir.Path, "out.csv")}' csv");
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.Equal("1,alpha\n2,\"be, ta\"\n", await File.ReadAllTextAsync(Path.Combine(dir.Path, "out.csv")));
    }

    [Fact]
    public async Task Errors_show_their_sqlstate_with_verbose_verbosity()
    {
        var result = await PsqlRunner.RunAsync(fixture, "-c", "\\set VERBOSITY verbose", "-c", "SELECT * FROM table_that_is_not_there");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("ERROR:  42P01:", result.Stderr);

        var denied = await PsqlRunner.RunAsync(fixture, "-c", "\\set VERBOSITY verbose", "-c", "SELECT * FROM forbidden");
        Assert.Contains("ERROR:  42501:", denied.Stderr);
    }

    [Fact]
    public async Task Wrong_password_is_refused()
    {
        var result = await PsqlRunner.RunWithUserAsync(fixture, PostgresServerFixture.User, "not-the-password", "-c", "SELECT 1");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("password authentication failed", result.Stderr);
    }

    /// <summary>
    /// Records the catalog queries psql's \dt, \d and \l and Npgsql's type loading send (answering them is
    /// the query backend's job): the test checks the server survives them and logs them for that work.
    /// </summary>
    [Fact]
    public async Task Catalog_queries_of_psql_and_npgsql_are_recorded()
    {
        fixture.Backend.Exec("CREATE OR REPLACE TABLE catalog_probe (id INTEGER, name VARCHAR)");
        foreach (var meta in new[] { "\\dt", "\\d catalog_probe", "\\l" })
        {
            var before = fixture.Backend.Statements.Count;
            var result = await PsqlRunner.RunAsync(fixture, "-c", meta);
            output.WriteLine($"psql {meta}: exit {result.ExitCode}; stderr: {result.Stderr.Trim()}");
            foreach (var sql in fixture.Backend.Statements.Skip(before))
            {
                output.WriteLine("  sent: " + sql.ReplaceLineEndings(" "));
            }
        }
        var beforeNpgsql = fixture.Backend.Statements.Count;
        var builder = new NpgsqlDataSourceBuilder(fixture.ConnectionString());
        await using (var ds = builder.Build())
        {
            try
            {
                await using var connection = await ds.OpenConnectionAsync();
                output.WriteLine("Npgsql with type loading: connected");
            }
            catch (Exception e)
            {
                output.WriteLine($"Npgsql with type loading: {e.Message}");
            }
        }
        foreach (var sql in fixture.Backend.Statements.Skip(beforeNpgsql))
        {
            output.WriteLine("  Npgsql sent: " + sql.ReplaceLineEndings(" "));
        }
        // Whatever the backend made of them, the server is healthy.
        await using var check = await fixture.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1", check);
        Assert.Equal(1, await cmd.ExecuteScalarAsync());
    }
}
