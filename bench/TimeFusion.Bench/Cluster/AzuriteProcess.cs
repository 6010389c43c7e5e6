using System.Diagnostics;
using System.Reflection;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Cluster;

/// <summary>Azurite (the repository's pinned npm package, <c>npm ci</c> first) on free loopback ports, in memory.</summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private readonly Process _process;

    private AzuriteProcess(Process process, int blobPort, int tablePort) => (_process, BlobPort, TablePort) = (process, blobPort, tablePort);

    public int BlobPort { get; }

    public int TablePort { get; }

    /// <summary>The emulator's process (node), for its CPU time.</summary>
    public int Pid => _process.Id;

    /// <summary>The emulator's well-known dev account on our ports.</summary>
    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static async Task<AzuriteProcess> StartAsync()
    {
        var root = typeof(AzuriteProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "RepoRoot").Value!;
        var azurite = Path.Combine(root, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite)) throw new FileNotFoundException($"Azurite is not installed at {azurite} (npm ci)");
        var ports = FreePorts.Take(3);
        var info = new ProcessStartInfo(azurite) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1",
                     "--tableHost", "127.0.0.1", "--blobPort", ports[0].ToString(), "--queuePort", ports[1].ToString(), "--tablePort", ports[2].ToString() })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("azurite did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var result = new AzuriteProcess(process, ports[0], ports[2]);
        await FreePorts.WaitUntilListeningAsync(ports[0], TimeSpan.FromSeconds(60), () => "Azurite's blob port did not open");
        await FreePorts.WaitUntilListeningAsync(ports[2], TimeSpan.FromSeconds(60), () => "Azurite's table port did not open");
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
