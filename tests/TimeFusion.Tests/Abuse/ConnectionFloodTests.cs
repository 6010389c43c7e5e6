using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using TimeFusion.Wire;
using Xunit.Abstractions;
using static TimeFusion.Tests.Abuse.AbuseSiloFixture;

namespace TimeFusion.Tests.Abuse;

/// <summary>
/// Finding 8 on a real silo: idle unauthenticated sockets cannot fill the server, one user cannot take every slot,
/// admins keep a way in; finding 11: an unknown user name gets the same authentication request as a known one.
/// </summary>
[Collection(AbuseSiloCollection.Name)]
public sealed class ConnectionFloodTests(AbuseSiloFixture f, ITestOutputHelper output)
{
    [Fact]
    public async Task Two_thousand_idle_sockets_do_not_keep_an_admin_out()
    {
        var sockets = new List<Socket>();
        try
        {
            for (var batch = 0; batch < 20; batch++)
            {
                var opened = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await s.ConnectAsync(IPAddress.Loopback, f.Silo.PostgresPort);
                    return s;
                }));
                sockets.AddRange(opened);
            }
            Assert.Equal(2000, sockets.Count);
            var clock = Stopwatch.StartNew();
            await using (var admin = await f.OpenAsync(Admin, AdminPassword))
            {
                await using var one = new NpgsqlCommand("SELECT 1", admin);
                Assert.Equal(1, await one.ExecuteScalarAsync());
            }
            output.WriteLine($"admin logged in (TLS, SCRAM) and queried in {clock.ElapsedMilliseconds} ms behind 2,000 idle sockets");
            // Measured well under a second on an idle machine; the bound leaves room for a loaded 2-core CI box.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
            await using var alice = await f.OpenAsync(Alice, AlicePassword);
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
    }

    [Fact]
    public async Task One_user_holds_at_most_its_limit_and_others_and_admins_still_get_in()
    {
        var held = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < PerUserLimit; i++) held.Add(await f.OpenAsync(Alice, AlicePassword));
            var e = await Assert.ThrowsAsync<PostgresException>(() => f.OpenAsync(Alice, AlicePassword));
            Assert.Equal(SqlState.TooManyConnections, e.SqlState);
            Assert.Contains("too many connections for role \"alice\"", e.MessageText);
            Assert.Contains("TimeFusion:Postgres:MaxConnectionsPerUser", e.Hint);
            await using var bob = await f.OpenAsync(Bob, BobPassword);
            await using var admin = await f.OpenAsync(Admin, AdminPassword);
        }
        finally
        {
            foreach (var c in held) await c.DisposeAsync();
        }
        // Slots are given back when connections end.
        await using var again = await f.OpenAsync(Alice, AlicePassword);
    }

    [Fact]
    public async Task Known_and_unknown_user_names_get_the_same_authentication_request()
    {
        var known = await FirstAuthenticationRequestAsync(Alice);
        var unknown = await FirstAuthenticationRequestAsync("no-such-user");
        Assert.Equal(10, BinaryPrimitives.ReadInt32BigEndian(known)); // AuthenticationSASL
        Assert.Equal(known, unknown); // same code, same mechanism list
    }

    /// <summary>Sends a plain startup packet and returns the body of the server's first 'R' message.</summary>
    private async Task<byte[]> FirstAuthenticationRequestAsync(string user)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, f.Silo.PostgresPort);
        var body = new List<byte>();
        body.AddRange([0, 3, 0, 0]);
        foreach (var s in new[] { "user", user, "database", "timefusion" }) body.AddRange([.. Encoding.UTF8.GetBytes(s), 0]);
        body.Add(0);
        var packet = new byte[4 + body.Count];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        body.CopyTo(packet, 4);
        await socket.SendAsync(packet);
        var header = new byte[5];
        await ReceiveExactlyAsync(socket, header);
        Assert.Equal((byte)'R', header[0]);
        var reply = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
        await ReceiveExactlyAsync(socket, reply);
        return reply;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), timeout.Token);
            Assert.True(n > 0, "the server closed the connection");
            read += n;
        }
    }
}
