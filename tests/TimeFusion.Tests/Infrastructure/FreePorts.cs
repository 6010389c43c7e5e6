using System.Net;
using System.Net.Sockets;

namespace TimeFusion.Tests.Infrastructure;

/// <summary>Free loopback TCP ports, found by binding to port 0.</summary>
public static class FreePorts
{
    /// <summary>Returns <paramref name="count"/> distinct ports that were free a moment ago.</summary>
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

    /// <summary>Waits until a TCP connect to the loopback port succeeds, or throws after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilListeningAsync(int port, TimeSpan timeout, Func<string> describeFailure)
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
                // Not up yet: poll again shortly (a readiness probe, not a sleep standing in for a condition).
                await Task.Delay(50);
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"port {port} did not open within {timeout}: {describeFailure()}", e);
            }
        }
    }
}
