using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>A bare PostgreSQL protocol client for sending exactly the bytes a test wants (valid or not).</summary>
internal sealed class RawPgClient : IAsyncDisposable
{
    private readonly TcpClient _tcp = new();
    private NetworkStream _stream = null!;
    private readonly byte[] _header = new byte[5];

    public static async Task<RawPgClient> ConnectAsync(int port)
    {
        var client = new RawPgClient();
        await client._tcp.ConnectAsync(IPAddress.Loopback, port);
        client._tcp.NoDelay = true;
        client._stream = client._tcp.GetStream();
        return client;
    }

    public readonly record struct Message(char Type, byte[] Body)
    {
        public string Text => Encoding.UTF8.GetString(Body);

        /// <summary>The fields of an ErrorResponse/NoticeResponse by code.</summary>
        public Dictionary<char, string> Fields()
        {
            var result = new Dictionary<char, string>();
            var pos = 0;
            while (pos < Body.Length && Body[pos] != 0)
            {
                var code = (char)Body[pos++];
                var end = Array.IndexOf(Body, (byte)0, pos);
                result[code] = Encoding.UTF8.GetString(Body, pos, end - pos);
                pos = end + 1;
            }
            return result;
        }
    }

    public Task SendRawAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    public async Task SendAsync(char type, byte[] body)
    {
        await _stream.WriteAsync(Frame(type, body));
    }

    public static byte[] Frame(char type, byte[] body)
    {
        var bytes = new byte[5 + body.Length];
        bytes[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), body.Length + 4);
        body.CopyTo(bytes, 5);
        return bytes;
    }

    public static byte[] StartupPacket(IEnumerable<KeyValuePair<string, string>> parameters, int version = 196608)
    {
        var body = new List<byte>();
        body.AddRange(BigEndian(version));
        foreach (var (k, v) in parameters)
        {
            body.AddRange(CString(k));
            body.AddRange(CString(v));
        }
        body.Add(0);
        var packet = new List<byte>(BigEndian(body.Count + 4));
        packet.AddRange(body);
        return packet.ToArray();
    }

    public static byte[] BigEndian(int value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        return b;
    }

    public static byte[] BigEndian16(short value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteInt16BigEndian(b, value);
        return b;
    }

    public static byte[] CString(string s) => [.. Encoding.UTF8.GetBytes(s), 0];

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Query(string sql) => Frame('Q', CString(sql));

    public static byte[] Parse(string name, string sql, params int[] oids) =>
        Frame('P', Concat(CString(name), CString(sql), BigEndian16((short)oids.Length), oids.SelectMany(BigEndian).ToArray()));

    public static byte[] Bind(string portal, string statement, string?[] textParameters, short resultFormat = 0) =>
        Frame('B', Concat(
            CString(portal), CString(statement),
            BigEndian16(0),
            BigEndian16((short)textParameters.Length),
            textParameters.SelectMany(p => p is null ? BigEndian(-1) : Concat(BigEndian(Encoding.UTF8.GetByteCount(p)), Encoding.UTF8.GetBytes(p))).ToArray(),
            BigEndian16(1), BigEndian16(resultFormat)));

    public static byte[] Describe(char kind, string name) => Frame('D', Concat([(byte)kind], CString(name)));

    public static byte[] Execute(string portal, int maxRows) => Frame('E', Concat(CString(portal), BigEndian(maxRows)));

    public static byte[] Close(char kind, string name) => Frame('C', Concat([(byte)kind], CString(name)));

    public static byte[] Sync() => Frame('S', []);

    public static byte[] Flush() => Frame('H', []);

    public static byte[] Terminate() => Frame('X', []);

    /// <summary>Reads one byte (the answer to SSLRequest / GSSENCRequest).</summary>
    public async Task<int> ReadByteAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var one = new byte[1];
        var n = await _stream.ReadAsync(one, cts.Token);
        return n == 0 ? -1 : one[0];
    }

    /// <summary>Reads one backend message; null at end of stream.</summary>
    public async Task<Message?> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        if (!await ReadExactAsync(_header, cts.Token))
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(_header.AsSpan(1));
        var body = new byte[length - 4];
        if (!await ReadExactAsync(body, cts.Token))
        {
            return null;
        }
        return new Message((char)_header[0], body);
    }

    /// <summary>Reads messages up to and including ReadyForQuery.</summary>
    public async Task<List<Message>> ReadUntilReadyAsync(TimeSpan? timeout = null)
    {
        var messages = new List<Message>();
        while (true)
        {
            var m = await ReadAsync(timeout) ?? throw new IOException($"connection closed; got {string.Join(",", messages.Select(x => x.Type))}");
            messages.Add(m);
            if (m.Type == 'Z')
            {
                return messages;
            }
        }
    }

    /// <summary>Cleartext login (the fixture's cleartext user); returns the messages up to ReadyForQuery.</summary>
    public async Task<List<Message>> LoginCleartextAsync(string user, string password)
    {
        await SendRawAsync(StartupPacket([new("user", user), new("database", "tf")]));
        var auth = await ReadAsync() ?? throw new IOException("closed during startup");
        if (auth.Type != 'R' || BinaryPrimitives.ReadInt32BigEndian(auth.Body) != 3)
        {
            throw new InvalidOperationException($"expected cleartext auth request, got {auth.Type}");
        }
        await SendAsync('p', CString(password));
        return await ReadUntilReadyAsync();
    }

    /// <summary>Closes our sending side and reads until the server closes; false if it did not within the timeout.</summary>
    public async Task<bool> ShutdownAndDrainAsync(TimeSpan timeout)
    {
        try
        {
            _tcp.Client.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            return true;
        }
        return await DrainAsync(timeout);
    }

    /// <summary>Reads until the server closes the connection; false if it did not within the timeout.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[8192];
        try
        {
            while (await _stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true; // reset by the server: closed too
        }
    }

    private async Task<bool> ReadExactAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
