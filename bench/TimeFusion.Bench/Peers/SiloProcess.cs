using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TimeFusion.Client.Sdk;
using TimeFusion.Grains;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Peers;

/// <summary>
/// The real TimeFusion silo (<c>TimeFusion.Silo.dll</c>, built with the bench) as a child process on free loopback
/// ports over a data directory, with settings passed as <c>--TimeFusion:…=…</c> arguments; an Orleans client to it.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private IHost? _client;
    private (string User, string Password)? _admin;

    public string DataDirectory { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }
    public int PostgresPort { get; }
    public int FlightPort { get; }
    public int OtlpHttpPort { get; }
    public int OtlpGrpcPort { get; }
    public Stopwatch SinceStart { get; }
    public int Pid => _process.Id;
    public IClusterClient Cluster => _client?.Services.GetRequiredService<IClusterClient>() ?? throw new InvalidOperationException("not connected");

    // Children are killed when the bench exits or is interrupted, so no silo outlives a run.
    private static readonly List<Process> Running = [];

    static SiloProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    private static void KillAll()
    {
        lock (Running)
        {
            foreach (var p in Running)
            {
                try
                {
                    if (!p.HasExited) p.Kill(entireProcessTree: true);
                }
                catch (Exception)
                {
                    // Best effort on the way out.
                }
            }
        }
    }

    private SiloProcess(Process process, string dataDirectory, int[] ports, Stopwatch sinceStart)
    {
        var (gatewayPort, postgresPort) = (ports[1], ports[2]);
        SiloPort = ports[0];
        FlightPort = ports[3];
        OtlpHttpPort = ports[4];
        OtlpGrpcPort = ports[5];
        _process = process;
        DataDirectory = dataDirectory;
        GatewayPort = gatewayPort;
        PostgresPort = postgresPort;
        SinceStart = sinceStart;
    }

    public static string SiloDll => DefaultSiloDll ?? typeof(SiloProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "SiloDll").Value!;

    /// <summary>Set once at start-up (<c>suite --silo-dll</c>): another build of the silo for every part, e.g. a copy of this build kept while the tree is rebuilt.</summary>
    public static string? DefaultSiloDll { get; set; }

    /// <summary>The password of every user the bench configures (the admin <see cref="DefaultAdmin"/> and one user per project).</summary>
    public const string Password = "timefusion";

    /// <summary>The admin user configured when the settings name no users (the server's embedded default).</summary>
    public const string DefaultAdmin = "timefusion";

    /// <summary>
    /// Starts the silo; <paramref name="settings"/> are keys under <c>TimeFusion:</c> (e.g. <c>Buffer:HardLimitBytes</c>).
    /// Unless the settings configure users, the silo gets the admin <see cref="DefaultAdmin"/> and, for each of
    /// <paramref name="projectUsers"/>, a user of that name bound to that project (password <see cref="Password"/>), so
    /// SDK clients (<see cref="ClientAsync"/>) log in as they would in production. <paramref name="siloDll"/> runs another
    /// build (a before/after comparison); the bench's own by default. <paramref name="environment"/> adds variables to the
    /// child's environment only (runtime knobs such as <c>DOTNET_ThreadPool_UnfairSemaphoreSpinLimit</c>).
    /// </summary>
    public static SiloProcess Start(string dataDirectory, IReadOnlyDictionary<string, string> settings, IEnumerable<string>? projectUsers = null, string? siloDll = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        siloDll ??= SiloDll;
        if (!File.Exists(siloDll)) throw new FileNotFoundException($"the silo is not built at {siloDll} (dotnet build src/Silo -c Release)");
        Directory.CreateDirectory(dataDirectory);
        var ports = FreePorts.Take(6);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(siloDll);
        var all = new Dictionary<string, string>
        {
            ["DataDirectory"] = dataDirectory,
            ["SiloPort"] = ports[0].ToString(),
            ["GatewayPort"] = ports[1].ToString(),
            ["Postgres:Port"] = ports[2].ToString(),
            // A port of its own, so that a bench (or its smoke test) never collides with a server on the default 50051.
            ["Flight:Port"] = ports[3].ToString(),
            ["Otlp:HttpPort"] = ports[4].ToString(),
            ["Otlp:GrpcPort"] = ports[5].ToString(),
            // Only the otlp benchmark sends OTLP (it turns the receiver on); the others start silos as before it existed.
            ["Otlp:Enabled"] = "false",
        };
        if (!settings.Keys.Any(k => k.StartsWith("Users:", StringComparison.Ordinal)))
        {
            all["Users:0:Name"] = DefaultAdmin;
            all["Users:0:PasswordOrScramSecret"] = Password;
            all["Users:0:IsAdmin"] = "true";
            all["Users:0:Projects:0"] = "default";
            var n = 1;
            foreach (var project in projectUsers ?? [])
            {
                all[$"Users:{n}:Name"] = project;
                all[$"Users:{n}:PasswordOrScramSecret"] = Password;
                all[$"Users:{n}:Projects:0"] = project;
                n++;
            }
        }
        foreach (var (k, v) in settings) all[k] = v;
        // The first admin among the users: the bench's SDK clients and status reads log in as it.
        var adminIndex = Enumerable.Range(0, 64).Cast<int?>().FirstOrDefault(i => all.GetValueOrDefault($"Users:{i}:IsAdmin") == "true");
        foreach (var (k, v) in all) info.ArgumentList.Add($"--TimeFusion:{k}={v}");
        info.Environment["DOTNET_gcServer"] = "0";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        lock (Running) Running.Add(process);
        var silo = new SiloProcess(process, dataDirectory, ports, clock)
        {
            _admin = adminIndex is { } a ? (all[$"Users:{a}:Name"], all[$"Users:{a}:PasswordOrScramSecret"]) : null,
        };
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    private readonly StringBuilder _errors = new();
    private int _errorLines;

    /// <summary>Each line the silo writes (stdout and stderr), as it arrives: benches time events by it (e.g. flushes).</summary>
    public event Action<string>? LineReceived;

    private void Append(string? line)
    {
        if (line is null) return;
        LineReceived?.Invoke(line);
        lock (_log)
        {
            // Keep errors (and a few lines after each) apart: info logs would push them out of the tail.
            if (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal)) _errorLines = 6;
            if (_errorLines > 0 && _errors.Length < 16 * 1024)
            {
                _errorLines--;
                _errors.AppendLine(line);
            }
            if (_log.Length > 64 * 1024) _log.Remove(0, _log.Length - 32 * 1024);
            _log.AppendLine(line);
        }
    }

    public string LogTail()
    {
        lock (_log) return (_errors.Length > 0 ? "errors: " + _errors + "\ntail: " : "") + _log.ToString()[Math.Max(0, _log.Length - 2000)..];
    }

    /// <summary>Waits for the gateway and connects an Orleans client.</summary>
    public async Task ConnectAsync(TimeSpan timeout)
    {
        await FreePorts.WaitUntilListeningAsync(GatewayPort, timeout, () => _process.HasExited ? $"silo exited {_process.ExitCode}: {LogTail()}" : LogTail());
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        // Long calls (a WAL replay on activation, a big FLUSH) must not time out on the client side.
        builder.UseOrleansClient(c => c.UseLocalhostClustering(gatewayPort: GatewayPort)
            .Configure<Orleans.Configuration.ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(10))
            // The bench reads grain status straight from table grains: those calls carry the admin's session.
            .AddOutgoingGrainCallFilter(context =>
            {
                if (_adminSession is { } session && RequestContext.Get(ClientSession.RequestContextKey) is null)
                    RequestContext.Set(ClientSession.RequestContextKey, session.Token);
                return context.Invoke();
            }));
        var host = builder.Build();
        await host.StartAsync();
        _client = host;
        if (_admin is { } admin) _adminSession = await Cluster.GetGrain<IClientSessionGrain>(0).LoginAsync(admin.User, admin.Password);
    }

    private ClientSession? _adminSession;

    /// <summary>An SDK client logged in as the admin (for an admin caller) or as the project's user (see <see cref="Start"/>).</summary>
    public Task<TimeFusionClient> ClientAsync(Caller caller) => caller.IsAdmin
        ? TimeFusionClient.ConnectAsync(Cluster, _admin?.User ?? throw new InvalidOperationException("the silo has no admin user"), _admin.Value.Password)
        : TimeFusionClient.ConnectAsync(Cluster, caller.DefaultProject!, Password);

    /// <summary>
    /// Runs <paramref name="sql"/> until it is answered: the first call after a restart activates the table grain,
    /// which replays its WAL, and calls inside the silo time out after 30 s meanwhile.
    /// </summary>
    public async Task<TimeFusion.Wire.ArrowBatches> QueryUntilAnsweredAsync(Caller caller, string sql, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        // Activate the table grain straight from the client first (the client waits up to 10 min): a query would
        // reach it through the gateway, whose call inside the silo times out after 30 s and cancels the activation.
        var table = Cluster.GetGrain<ITableGrain>(TableGrainKey.Format(caller.DefaultProject!, "otel_logs_and_spans"));
        while (true)
        {
            try
            {
                await table.GetStatusAsync();
                break;
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException && DateTime.UtcNow < deadline)
            {
                // Still recovering: ask again.
            }
        }
        var client = await ClientAsync(caller);
        while (true)
        {
            try
            {
                return await client.QueryAllAsync(sql);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException && DateTime.UtcNow < deadline)
            {
                // Still recovering: ask again.
            }
        }
    }

    public long PeakRssBytes => ProcessMemory.PeakBytes(_process.Id);

    public long RssBytes => ProcessMemory.CurrentBytes(_process.Id);

    /// <summary>The silo's CPU time so far (user + system), read afresh.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Bytes under the data directory's <c>wal/</c> folder.</summary>
    public long WalBytes => DirectoryBytes(Path.Combine(DataDirectory, "wal"));

    public static long DirectoryBytes(string path) =>
        Directory.Exists(path) ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;

    /// <summary>kill -9: no shutdown work at all, as a crash.</summary>
    public async Task KillAsync()
    {
        await DisconnectAsync();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait for a clean exit (kill after 30 s).</summary>
    public async Task StopAsync()
    {
        await DisconnectAsync();
        if (_process.HasExited) return;
        _ = Kill(_process.Id, 15);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    private async Task DisconnectAsync()
    {
        if (_client is null) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _client.StopAsync(cts.Token);
        }
        catch (Exception)
        {
            // The silo may be gone already.
        }
        _client.Dispose();
        _client = null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        finally
        {
            lock (Running) Running.Remove(_process);
            _process.Dispose();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
