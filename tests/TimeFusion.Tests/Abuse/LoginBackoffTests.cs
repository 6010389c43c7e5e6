using System.Diagnostics;
using System.Net;
using System.Text;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Npgsql;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wire;
using static TimeFusion.Tests.Abuse.AbuseSiloFixture;

namespace TimeFusion.Tests.Abuse;

/// <summary>
/// Finding 11 on a real silo: past a few failures, password guesses for a name or from an address wait their turn,
/// over PostgreSQL and Flight alike (one limiter); a burst is logged once; client strings cannot forge log lines.
/// </summary>
[Collection(AbuseSiloCollection.Name)]
public sealed class LoginBackoffTests(AbuseSiloFixture f)
{
    private async Task FailPostgresAsync(string user)
    {
        var e = await Assert.ThrowsAsync<PostgresException>(() => f.OpenAsync(user, "wrong-password"));
        Assert.Equal(SqlState.InvalidPassword, e.SqlState);
    }

    [Fact]
    public async Task Repeated_wrong_passwords_over_postgres_are_slowed_and_logged_once()
    {
        // A success first clears what earlier tests left for this address.
        await (await f.OpenAsync(Bob, BobPassword)).DisposeAsync();
        var before = f.Silo.Output.Split('\n').Count(l => l.Contains("\"bob\"", StringComparison.Ordinal));
        for (var i = 0; i < FreeFailures; i++) await FailPostgresAsync(Bob);
        // Each further attempt waits its turn, counted from the last failure (BaseDelay 300 ms, doubling, capped at 1 s).
        // The clocks start before the failure a turn counts from, so a slow client cannot make them fail.
        var sinceFourth = Stopwatch.StartNew();
        await FailPostgresAsync(Bob); // the back-off engages
        var sinceFifth = Stopwatch.StartNew();
        await FailPostgresAsync(Bob);
        Assert.True(sinceFourth.Elapsed >= TimeSpan.FromMilliseconds(290), $"5th attempt answered {sinceFourth.Elapsed} after the 4th started");
        await FailPostgresAsync(Bob);
        Assert.True(sinceFifth.Elapsed >= TimeSpan.FromMilliseconds(590), $"6th attempt answered {sinceFifth.Elapsed} after the 5th started");
        // The right password still gets in (after its turn), and clears the record.
        await (await f.OpenAsync(Bob, BobPassword)).DisposeAsync();
        // Six failures: one line when the burst started, one when the back-off engaged; not one per attempt.
        var lines = f.Silo.Output.Split('\n').Count(l => l.Contains("\"bob\"", StringComparison.Ordinal)) - before;
        Assert.InRange(lines, 1, 2);
    }

    [Fact]
    public async Task Repeated_wrong_passwords_over_flight_are_slowed_by_the_same_limiter()
    {
        await (await f.OpenAsync(Alice, AlicePassword)).DisposeAsync();
        using var channel = f.FlightChannel();
        var client = new FlightClient(channel);
        async Task<(TimeSpan Elapsed, StatusCode Code)> ListAsync(string password)
        {
            var headers = new Metadata { { "authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Alice}:{password}")) } };
            var clock = Stopwatch.StartNew();
            try
            {
                var call = client.ListFlights(null, headers);
                while (await call.ResponseStream.MoveNext()) { }
                return (clock.Elapsed, StatusCode.OK);
            }
            catch (RpcException e)
            {
                return (clock.Elapsed, e.StatusCode);
            }
        }
        // The free failures over Flight, then one over PostgreSQL: the shared record engages the back-off on it.
        for (var i = 0; i < FreeFailures; i++) Assert.Equal(StatusCode.Unauthenticated, (await ListAsync("nope")).Code);
        var engaging = Stopwatch.StartNew(); // started before the server records the failure the next turn counts from
        await FailPostgresAsync(Alice);
        await Condition.WaitUntilAsync(() => f.Silo.Output.Contains($"PostgreSQL: login back-off engaged after {FreeFailures + 1} failures for user \"{Alice}\"", StringComparison.Ordinal),
            "the PostgreSQL failure to engage the back-off that the Flight failures counted towards");
        // Each next attempt waits its turn, counted from the last failure; the bounds below are measured from before that
        // failure, so a slow client (a loaded machine) cannot make them fail: BaseDelay 300 ms, then 600 ms.
        var sinceFlightFailure = Stopwatch.StartNew(); // started before the server records the Flight failure
        var slowed = await ListAsync("nope");
        Assert.Equal(StatusCode.Unauthenticated, slowed.Code);
        Assert.True(engaging.Elapsed >= TimeSpan.FromMilliseconds(290), $"the Flight attempt after the back-off engaged was answered {engaging.Elapsed} after the failure that engaged it");
        // The PostgreSQL endpoint shares the record: alice's next PostgreSQL login waits for the Flight failure's turn.
        await (await f.OpenAsync(Alice, AlicePassword)).DisposeAsync();
        Assert.True(sinceFlightFailure.Elapsed >= TimeSpan.FromMilliseconds(590), $"the postgres login after the Flight failure was answered {sinceFlightFailure.Elapsed} after that attempt started");
        Assert.Equal(StatusCode.OK, (await ListAsync(AlicePassword)).Code);
    }

    [Fact]
    public async Task A_newline_in_a_user_name_cannot_forge_a_log_line()
    {
        await (await f.OpenAsync(Bob, BobPassword)).DisposeAsync();
        var evil = "evil\nFAKE-LOG-LINE admin logged in";
        await Assert.ThrowsAsync<PostgresException>(() => f.OpenAsync(evil, "x"));
        var log = f.Silo.Output;
        Assert.Contains("evil\\nFAKE-LOG-LINE", log);
        Assert.DoesNotContain(log.Split('\n'), l => l.TrimStart().StartsWith("FAKE-LOG-LINE", StringComparison.Ordinal));
        await (await f.OpenAsync(Bob, BobPassword)).DisposeAsync();
    }

    [Fact]
    public async Task Concurrent_guesses_queue_instead_of_multiplying_the_rate()
    {
        var throttle = new LoginThrottle(Options.Create(new LoginThrottleOptions { FreeFailures = 2, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) }));
        var address = IPAddress.Parse("10.1.2.3");
        for (var i = 0; i < 3; i++) throttle.Failed("test", "u", address);
        // Ten parallel attempts take ten successive turns: the last waits about ten delays.
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => throttle.WaitTurnAsync("u", address, CancellationToken.None).AsTask()));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"ten queued attempts finished after {clock.Elapsed}");
        // Another name from another address is not held up.
        Assert.Equal(TimeSpan.Zero, throttle.CurrentDelay("v", IPAddress.Parse("10.9.9.9")));
        Assert.Equal("a\\nb\\u001b[31m", LogText.Escape("a\nb\u001b[31m"));
    }
}
