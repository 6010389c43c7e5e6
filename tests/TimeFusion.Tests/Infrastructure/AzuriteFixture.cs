using System.Diagnostics;
using System.Text;

namespace TimeFusion.Tests.Infrastructure;

/// <summary>
/// Starts Azurite (pinned in the repository's package.json, installed with <c>npm ci</c> when missing)
/// on free loopback ports with in-memory persistence, and stops it on dispose.
/// Use it through <c>[Collection(AzuriteCollection.Name)]</c>. It never skips: if Azurite cannot be
/// installed or started, the tests that need it fail with the reason.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private Process? _process;
    private readonly StringBuilder _output = new();

    /// <summary>Blob endpoint port.</summary>
    public int BlobPort { get; private set; }

    /// <summary>Table endpoint port.</summary>
    public int TablePort { get; private set; }

    /// <summary>The connection string for the emulator's well-known dev account on our ports.</summary>
    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    /// <summary>A fresh, unique container name (the emulator is shared by a test collection).</summary>
    public static string NewContainerName() => "t" + Guid.NewGuid().ToString("N");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var root = RepoPaths.Root;
        var azurite = Path.Combine(root, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite)) await NpmCiAsync(root);

        var ports = FreePorts.Take(3);
        (BlobPort, var queuePort, TablePort) = (ports[0], ports[1], ports[2]);
        var psi = new ProcessStartInfo(azurite)
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
                     "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                     "--blobPort", BlobPort.ToString(), "--queuePort", queuePort.ToString(), "--tablePort", TablePort.ToString(),
                 })
        {
            psi.ArgumentList.Add(a);
        }
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start azurite");
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        string Describe() { lock (_output) return $"azurite exited={_process.HasExited}; output: {_output}"; }
        await FreePorts.WaitUntilListeningAsync(BlobPort, TimeSpan.FromSeconds(30), Describe);
        await FreePorts.WaitUntilListeningAsync(TablePort, TimeSpan.FromSeconds(30), Describe);
    }

    private static async Task NpmCiAsync(string root)
    {
        var psi = new ProcessStartInfo("npm")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "ci", "--no-audit", "--no-fund" }) psi.ArgumentList.Add(a);
        using var npm = Process.Start(psi) ?? throw new InvalidOperationException("could not start npm (is Node.js installed?)");
        var stdout = npm.StandardOutput.ReadToEndAsync();
        var stderr = npm.StandardError.ReadToEndAsync();
        await npm.WaitForExitAsync();
        if (npm.ExitCode != 0)
            throw new InvalidOperationException($"npm ci failed ({npm.ExitCode}): {await stdout}{await stderr}");
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}

/// <summary>The xunit collection that shares one Azurite between test classes.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "azurite";
}
