using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using static TimeFusion.Tests.Abuse.AbuseSiloFixture;

namespace TimeFusion.Tests.Abuse;

/// <summary>Finding 11: optional TLS on the PostgreSQL endpoint (psql and Npgsql), with a self-signed certificate made by the fixture.</summary>
[Collection(AbuseSiloCollection.Name)]
public sealed class PostgresTlsTests(AbuseSiloFixture f)
{
    [Fact]
    public async Task Npgsql_verifies_the_certificate_and_talks_over_tls()
    {
        // VerifyFull: Npgsql refuses to go on unless the server answers the SSLRequest with 'S' and presents a
        // certificate chaining to the fixture's root for "localhost".
        await using var connection = await f.OpenAsync(Alice, AlicePassword);
        await using var cmd = new NpgsqlCommand("SELECT 40 + 2", connection);
        Assert.Equal(42, Convert.ToInt32(await cmd.ExecuteScalarAsync()));
        // Plain text is still served when the client does not ask for TLS.
        await using var plain = await f.Silo.OpenAsync(Alice, AlicePassword, b => b.SslMode = SslMode.Disable);
        await using var again = new NpgsqlCommand("SELECT 1", plain);
        Assert.Equal(1, Convert.ToInt32(await again.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task Psql_with_sslmode_require_connects_over_tls()
    {
        var info = new ProcessStartInfo(File.Exists("/usr/bin/psql") ? "/usr/bin/psql" : "psql")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        info.Environment["PGPASSWORD"] = AlicePassword;
        info.Environment["PGCONNECT_TIMEOUT"] = "20";
        info.ArgumentList.Add($"host=localhost port={f.Silo.PostgresPort} user={Alice} dbname=timefusion sslmode=verify-full sslrootcert={f.CertificatePath}");
        foreach (var a in new[] { "-X", "-w", "-c", "\\conninfo", "-c", "SELECT 'over tls' AS t" }) info.ArgumentList.Add(a);
        using var psql = Process.Start(info)!;
        var stdout = psql.StandardOutput.ReadToEndAsync();
        var stderr = psql.StandardError.ReadToEndAsync();
        await psql.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(psql.ExitCode == 0, await stderr);
        var text = await stdout;
        Assert.Contains("SSL connection", text);
        Assert.Contains("over tls", text);
    }

    [Fact]
    public async Task Bytes_sent_after_an_ssl_request_before_the_handshake_are_refused()
    {
        // CVE-2021-23214: what arrives in plain text with the SSLRequest must not pass for protected bytes.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, f.Silo.PostgresPort);
        var request = new byte[8 + 5];
        BinaryPrimitives.WriteInt32BigEndian(request, 8);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(4), 80877103);
        "Q\0\0\0\u0004"u8.CopyTo(request.AsSpan(8)); // an injected message right behind it
        await socket.SendAsync(request);
        var reply = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var n = await socket.ReceiveAsync(reply, timeout.Token);
        // Refused: an ErrorResponse ('E'), never the 'S' that would start a handshake over the injected bytes.
        Assert.True(n == 0 || reply[0] == (byte)'E', $"got '{(char)reply[0]}'");
    }
}
