using System.Diagnostics;
using System.Reflection;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Hosting;

/// <summary>The real server process refuses bad settings at start, naming each key, without a stack trace.</summary>
public sealed class SiloStartValidationTests
{
    private static string SiloDll
    {
        get
        {
            var configuration = typeof(SiloStartValidationTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
            return Path.Combine(RepoPaths.Root, "src", "Silo", "bin", configuration, framework, "TimeFusion.Silo.dll");
        }
    }

    private static async Task<(int ExitCode, string StdErr)> RunAsync(string dataDirectory, params string[] settings)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SiloDll);
        var ports = FreePorts.Take(6);
        foreach (var a in new[]
                 {
                     $"--TimeFusion:DataDirectory={dataDirectory}", $"--TimeFusion:SiloPort={ports[0]}", $"--TimeFusion:GatewayPort={ports[1]}",
                     $"--TimeFusion:Postgres:Port={ports[2]}", $"--TimeFusion:Flight:Port={ports[3]}",
                     $"--TimeFusion:Otlp:HttpPort={ports[4]}", $"--TimeFusion:Otlp:GrpcPort={ports[5]}",
                 }.Concat(settings))
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
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
            Assert.Fail($"the silo kept running with bad settings; output: {await stdout}");
        }
        return (process.ExitCode, await stderr + await stdout);
    }

    [Fact]
    public async Task Bad_values_stop_the_start_with_every_key_named()
    {
        using var data = new TempDirectory();
        var (exit, output) = await RunAsync(data.Path,
            "--TimeFusion:Buffer:SoftLimitBytes=1000", "--TimeFusion:Buffer:HardLimitBytes=1000",
            "--TimeFusion:Flush:MaxBufferedRows=-5", "--TimeFusion:Storage:Kind=AzureBlob");
        Assert.Equal(2, exit);
        Assert.Contains("configuration is invalid", output);
        Assert.Contains("TimeFusion:Buffer:SoftLimitBytes = '1000'", output);
        Assert.Contains("TimeFusion:Flush:MaxBufferedRows = '-5'", output);
        Assert.Contains("TimeFusion:Storage:ConnectionString", output);
        Assert.DoesNotContain("   at ", output); // no stack trace
        Assert.False(Directory.Exists(Path.Combine(data.Path, "wal")), "nothing may start before the settings are valid");
    }

    [Fact]
    public async Task A_port_out_of_range_or_an_unknown_storage_kind_stops_the_start()
    {
        using var data = new TempDirectory();
        var (exit, output) = await RunAsync(data.Path, "--TimeFusion:Postgres:Port=70000");
        Assert.Equal(2, exit);
        Assert.Contains("TimeFusion:Postgres:Port = '70000'", output);

        (exit, output) = await RunAsync(data.Path, "--TimeFusion:Storage:Kind=Floppy");
        Assert.Equal(2, exit);
        Assert.Contains("TimeFusion:Storage:Kind", output);
    }

    [Fact]
    public async Task A_bad_cluster_setting_stops_the_start_without_echoing_the_connection_string()
    {
        using var data = new TempDirectory();
        var (exit, output) = await RunAsync(data.Path,
            "--TimeFusion:Cluster:ConnectionString=AccountName=x;AccountKey=not-base64!!", "--TimeFusion:Cluster:ClusterId=bad id");
        Assert.Equal(2, exit);
        Assert.Contains("TimeFusion:Cluster:ConnectionString = '(hidden)'", output);
        Assert.Contains("TimeFusion:Cluster:ClusterId = 'bad id'", output);
        Assert.DoesNotContain("not-base64", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task A_silo_port_in_use_stops_the_start_naming_the_key()
    {
        using var data = new TempDirectory();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (exit, output) = await RunAsync(data.Path, $"--TimeFusion:SiloPort={port}");
        Assert.Equal(2, exit);
        Assert.Contains($"TimeFusion:SiloPort = '{port}': is already in use", output);
    }
}
