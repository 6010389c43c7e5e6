using System.Diagnostics;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>Runs the real psql against the test server; the password goes only into the child's environment.</summary>
internal static class PsqlRunner
{
    public const string PsqlPath = "/usr/bin/psql";

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(PostgresServerFixture fixture, params string[] arguments) =>
        await RunWithUserAsync(fixture, PostgresServerFixture.User, PostgresServerFixture.Password, arguments);

    public static Task<Result> RunWithUserAsync(PostgresServerFixture fixture, string user, string password, params string[] arguments) =>
        RunAsync(fixture.Port, "tf", user, password, arguments);

    /// <summary>Runs psql against a server on loopback <paramref name="port"/> as <paramref name="user"/>.</summary>
    public static async Task<Result> RunAsync(int port, string database, string user, string password, params string[] arguments)
    {
        using var process = Start(port, database, user, password, arguments);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"psql {string.Join(' ', arguments)} did not finish within 60 s");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts psql (stdin, stdout and stderr redirected) for a test that reads its output as it comes or kills it midway.</summary>
    public static Process Start(int port, string database, string user, string password, params string[] arguments)
    {
        var path = File.Exists(PsqlPath) ? PsqlPath : "psql";
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }
        info.Environment["PGPASSWORD"] = password;
        info.Environment["PGCONNECT_TIMEOUT"] = "10";
        info.Environment["PGAPPNAME"] = "psql-test";
        info.ArgumentList.Add($"host=127.0.0.1 port={port} user={user} dbname={database}");
        info.ArgumentList.Add("-X"); // no ~/.psqlrc
        info.ArgumentList.Add("-w"); // never prompt
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        return Process.Start(info) ?? throw new InvalidOperationException("psql did not start");
    }
}
