using System.Net;
using System.Net.Sockets;

namespace TimeFusion.Tests.Infrastructure;

/// <summary>
/// Free TCP ports for the servers tests start. They come from below the kernel's ephemeral range, never from binding to
/// port 0: a port the kernel handed out and took back can be handed to the next bind(0) in another thread or to an
/// outgoing connection, and then a second server — or a client socket connected to itself — answers on it (seen in CI:
/// a test found "its" silo listening half a second after starting it). This process never hands out a port twice.
/// </summary>
public static class FreePorts
{
    private const int Lowest = 10_000;
    private static readonly object Gate = new();
    private static readonly int Highest = EphemeralRangeStart() - 1;
    private static int _next = Lowest + Random.Shared.Next(Highest - Lowest); // two test processes rarely overlap

    /// <summary>Returns <paramref name="count"/> distinct ports that are free now and were never returned before in this process.</summary>
    public static int[] Take(int count)
    {
        var ports = new int[count];
        lock (Gate)
        {
            for (var i = 0; i < count; i++)
            {
                for (var tried = 0; ; tried++)
                {
                    if (tried > Highest - Lowest) throw new InvalidOperationException($"no free TCP port in {Lowest}-{Highest}");
                    var port = _next;
                    _next = _next >= Highest ? Lowest : _next + 1;
                    if (IsFree(port))
                    {
                        ports[i] = port;
                        break;
                    }
                }
            }
        }
        return ports;
    }

    private static bool IsFree(int port)
    {
        // The servers bind the wildcard address (some IPv6 dual-stack): a listener there conflicts with all of them.
        foreach (var address in new[] { IPAddress.Any, IPAddress.Loopback })
        {
            var listener = new TcpListener(address, port);
            try
            {
                listener.Start();
            }
            catch (SocketException)
            {
                return false;
            }
            finally
            {
                listener.Stop();
            }
        }
        return true;
    }

    private static int EphemeralRangeStart()
    {
        const int fallback = 32_768; // Linux's default ip_local_port_range starts here
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            var first = text.Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0];
            var start = int.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
            return start > Lowest + 1_000 ? start : fallback;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return fallback;
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
