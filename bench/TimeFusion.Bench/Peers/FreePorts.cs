using System.Net;
using System.Net.Sockets;

namespace TimeFusion.Bench.Peers;

/// <summary>Free loopback ports, and waiting for one to listen.</summary>
public static class FreePorts
{
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                listeners.Add(l);
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var l in listeners) l.Stop();
        }
    }

    public static async Task WaitListeningAsync(int port, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20); // readiness poll
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"port {port} did not open within {timeout}: {describe()}", e);
            }
        }
    }
}
