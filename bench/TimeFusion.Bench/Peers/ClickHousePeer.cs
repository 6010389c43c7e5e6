using System.Diagnostics;
using System.Text;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Peers;

/// <summary>
/// A throwaway ClickHouse server (Debian's <c>clickhouse-server</c>, 18.16; installed with apt-get when missing) on a
/// temp folder and free loopback ports, spoken to over its HTTP interface; stopped and deleted on dispose, Ctrl-C or
/// process exit. Only when the suite is asked to (<c>--clickhouse</c>).
/// </summary>
public sealed class ClickHousePeer : IAsyncDisposable
{
    private const string ServerPath = "/usr/bin/clickhouse-server";
    private readonly string _root;
    private readonly HttpClient _http;
    private Process? _process;
    private int _stopped;

    private ClickHousePeer(string root, int httpPort)
    {
        _root = root;
        HttpPort = httpPort;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromMinutes(30) };
    }

    public int HttpPort { get; }

    public string Version { get; private set; } = "";

    /// <summary>Installs the Debian package when it is not there yet (needs root and the package mirror).</summary>
    public static async Task<bool> EnsureInstalledAsync()
    {
        if (File.Exists(ServerPath) || File.Exists("/usr/sbin/clickhouse-server")) return true;
        Console.WriteLine("installing clickhouse-server from Debian …");
        var info = new ProcessStartInfo("apt-get", "install -y -q clickhouse-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(info);
        if (p is null) return false;
        _ = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) Console.WriteLine($"apt-get install clickhouse-server failed: {await stderr}");
        return File.Exists(ServerPath) || File.Exists("/usr/sbin/clickhouse-server");
    }

    public static async Task<ClickHousePeer> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-ch-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var ports = FreePorts.Take(2);
        var peer = new ClickHousePeer(root, ports[0]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => peer.StopNow();
        Console.CancelKeyPress += (_, _) => peer.StopNow();
        var config = Path.Combine(root, "config.xml");
        var users = Path.Combine(root, "users.xml");
        await File.WriteAllTextAsync(users, """
            <?xml version="1.0"?>
            <yandex>
              <profiles><default><max_memory_usage>8000000000</max_memory_usage><max_threads>2</max_threads></default></profiles>
              <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
              <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
            </yandex>
            """);
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0"?>
            <yandex>
              <logger><level>warning</level><log>{root}/server.log</log><errorlog>{root}/server.err.log</errorlog></logger>
              <http_port>{ports[0]}</http_port>
              <tcp_port>{ports[1]}</tcp_port>
              <listen_host>127.0.0.1</listen_host>
              <path>{root}/data/</path>
              <tmp_path>{root}/tmp/</tmp_path>
              <user_files_path>{root}/user_files/</user_files_path>
              <format_schema_path>{root}/format_schemas/</format_schema_path>
              <users_config>{users}</users_config>
              <default_profile>default</default_profile>
              <default_database>default</default_database>
              <mark_cache_size>536870912</mark_cache_size>
              <max_concurrent_queries>100</max_concurrent_queries>
            </yandex>
            """);
        var path = File.Exists(ServerPath) ? ServerPath : "/usr/sbin/clickhouse-server";
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        info.ArgumentList.Add("--config-file=" + config);
        peer._process = Process.Start(info) ?? throw new InvalidOperationException("clickhouse-server did not start");
        _ = peer._process.StandardOutput.ReadToEndAsync();
        _ = peer._process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                peer.Version = (await peer.QueryAsync("SELECT version()")).Trim();
                return peer;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !peer._process.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Runs a statement; returns the answer as text (TabSeparated).</summary>
    public async Task<string> QueryAsync(string sql)
    {
        using var response = await _http.PostAsync("", new StringContent(sql, Encoding.UTF8));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"ClickHouse: {body.Trim()}");
        return body;
    }

    /// <summary>Inserts TabSeparated rows into <paramref name="table"/>; returns once ClickHouse has written them.</summary>
    public async Task InsertTsvAsync(string table, byte[] rows, int length)
    {
        using var content = new ByteArrayContent(rows, 0, length);
        using var response = await _http.PostAsync("?query=" + Uri.EscapeDataString($"INSERT INTO {table} FORMAT TabSeparated"), content);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"ClickHouse insert: {(await response.Content.ReadAsStringAsync()).Trim()}");
    }

    /// <summary>The server's resident set size now (bytes), or 0 when unknown.</summary>
    public long ResidentBytes()
    {
        try
        {
            var status = File.ReadAllLines($"/proc/{_process?.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return status is null ? 0 : long.Parse(status.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private void StopNow()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        try
        {
            if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
            _process?.WaitForExit(30_000);
        }
        catch (InvalidOperationException)
        {
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        StopNow();
        _http.Dispose();
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
