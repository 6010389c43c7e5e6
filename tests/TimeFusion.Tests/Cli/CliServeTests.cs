using System.Diagnostics;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Cli;

/// <summary><c>timefusion serve</c> runs the real server program, passes settings through and ends with its exit code.</summary>
[Collection(CliCollection.Name)] // one command-line process at a time: the suite shares two cores
public sealed class CliServeTests
{
    [Fact]
    public async Task Invalid_settings_reach_the_server_which_exits_with_2()
    {
        using var data = new TempDirectory();
        var result = await CliProcess.RunAsync(["serve", $"--TimeFusion:DataDirectory={data.Path}",
            "--TimeFusion:Buffer:SoftLimitBytes=1000", "--TimeFusion:Buffer:HardLimitBytes=1000"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("TimeFusion:Buffer:SoftLimitBytes = '1000'", result.StdErr);
    }

    [Fact]
    public async Task Serve_starts_a_server_the_other_commands_reach_and_stops_it_on_SIGTERM()
    {
        using var data = new TempDirectory();
        var ports = FreePorts.Take(4);
        using var serve = CliProcess.Start(data.Path, ["serve", $"--TimeFusion:DataDirectory={data.Path}", $"--TimeFusion:SiloPort={ports[0]}",
            $"--TimeFusion:GatewayPort={ports[1]}", $"--TimeFusion:Postgres:Port={ports[2]}", $"--TimeFusion:Flight:Port={ports[3]}", "--TimeFusion:Otlp:Enabled=false"]);
        var output = serve.StandardOutput.ReadToEndAsync();
        var errors = serve.StandardError.ReadToEndAsync();
        try
        {
            await FreePorts.WaitUntilListeningAsync(ports[3], TimeSpan.FromSeconds(90), () => "serve did not open the Flight port");
            var query = await CliProcess.RunAsync(["query", "SELECT 41 + 1 AS answer", "--format", "csv", "--server", $"grpc://127.0.0.1:{ports[3]}"]);
            Assert.True(query.ExitCode == 0, query.ToString());
            Assert.Equal("answer\n42\n", query.StdOut.Replace("\r", ""));

            using (var term = Process.Start("kill", ["-TERM", serve.Id.ToString()])) await term.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await serve.WaitForExitAsync(cts.Token);
            Assert.Equal(0, serve.ExitCode);
            // The server stopped with it: its port is free again.
            Assert.Equal(ports[3], FreePortAgain(ports[3]));
        }
        finally
        {
            if (!serve.HasExited) serve.Kill(entireProcessTree: true);
            await output;
            await errors;
        }
    }

    private static int FreePortAgain(int port)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        listener.Start();
        listener.Stop();
        return port;
    }
}
