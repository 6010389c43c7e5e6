using System.Diagnostics;
using System.Reflection;
using System.Text;
using Npgsql;

namespace TimeFusion.Tests.Infrastructure;

/// <summary>
/// The real server (<c>TimeFusion.Silo.dll</c>) as a child process on free loopback ports, with a data directory of its
/// own and settings given on the command line. It can be killed and restarted on the same data and ports; everything it
/// writes to stdout/stderr is kept for assertions on its log.
/// </summary>
public sealed class RealSiloProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> _settings;
    private readonly StringBuilder _output = new();
    private readonly int[] _ports = FreePorts.Take(4);
    private Process? _process;

    /// <summary>Creates (does not start) a silo over <paramref name="dataDirectory"/> with extra <c>--key=value</c> settings.</summary>
    public RealSiloProcess(string dataDirectory, IReadOnlyDictionary<string, string> settings)
    {
        DataDirectory = dataDirectory;
        _settings = new Dictionary<string, string>(settings)
        {
            ["TimeFusion:DataDirectory"] = dataDirectory,
            ["TimeFusion:SiloPort"] = _ports[0].ToString(),
            ["TimeFusion:GatewayPort"] = _ports[1].ToString(),
            ["TimeFusion:Postgres:Port"] = _ports[2].ToString(),
            ["TimeFusion:Flight:Port"] = _ports[3].ToString(),
            ["TimeFusion:Otlp:Enabled"] = "false", // its default ports would clash with other servers on the machine
        };
    }

    public string DataDirectory { get; }

    public int PostgresPort => _ports[2];

    public int FlightPort => _ports[3];

    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Everything the process wrote so far (all runs).</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private static string SiloDll
    {
        get
        {
            var configuration = typeof(RealSiloProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
            return Path.Combine(RepoPaths.Root, "src", "Silo", "bin", configuration, framework, "TimeFusion.Silo.dll");
        }
    }

    /// <summary>Starts the process and waits until its PostgreSQL and Flight ports accept connections.</summary>
    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SiloDll);
        foreach (var (key, value) in _settings) info.ArgumentList.Add($"--{key}={value}");
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await FreePorts.WaitUntilListeningAsync(PostgresPort, TimeSpan.FromSeconds(90), () => process.HasExited ? $"the silo exited: {Output}" : Output);
        await FreePorts.WaitUntilListeningAsync(FlightPort, TimeSpan.FromSeconds(30), () => Output);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>Kills the process (SIGKILL: what it acknowledged must survive) and waits for it to end.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process) return;
        _process = null;
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }

    /// <summary>A connection string for a user (pooling off, SSL as the server offers).</summary>
    public string ConnectionString(string user, string password, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = PostgresPort, Username = user, Password = password, Database = "timefusion",
            Pooling = false, Timeout = 30, CommandTimeout = 60,
        };
        configure?.Invoke(builder);
        return builder.ConnectionString;
    }

    /// <summary>Opens a connection as <paramref name="user"/>.</summary>
    public async Task<NpgsqlConnection> OpenAsync(string user, string password, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var connection = new NpgsqlConnection(ConnectionString(user, password, configure));
        await connection.OpenAsync();
        return connection;
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
