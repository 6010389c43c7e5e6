using System.Diagnostics;
using System.Net;
using System.Text;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Npgsql;
using TimeFusion.Silo.Security;
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
    private async Task<TimeSpan> FailPostgresAsync(string user)
    {
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<PostgresException>(() => f.OpenAsync(user, "wrong-password"));
        Assert.Equal(SqlState.InvalidPassword, e.SqlState);
        return clock.Elapsed;
    }

    [Fact]
    public async Task Repeated_wrong_passwords_over_postgres_are_slowed_and_logged_once()
    {
        // A success first clears what earlier tests left for this address.
        await (await f.OpenAsync(Bob, BobPassword)).DisposeAsync();
        var before = f.Silo.Output.Split('\n').Count(l => l.Contains("\"bob\"", StringComparison.Ordinal));
        for (var i = 0; i <= FreeFailures; i++) await FailPostgresAsync(Bob);
        // Each further attempt waits its turn: BaseDelay 300 ms, doubling (capped at 1 s).
        var fifth = await FailPostgresAsync(Bob);
        var sixth = await FailPostgresAsync(Bob);
        Assert.True(fifth >= TimeSpan.FromMilliseconds(250), $"5th attempt answered after {fifth}");
        Assert.True(sixth >= TimeSpan.FromMilliseconds(250), $"6th attempt answered after {sixth}");
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
        for (var i = 0; i <= FreeFailures; i++) Assert.Equal(StatusCode.Unauthenticated, (await ListAsync("nope")).Code);
        var slowed = await ListAsync("nope");
        Assert.Equal(StatusCode.Unauthenticated, slowed.Code);
        Assert.True(slowed.Elapsed >= TimeSpan.FromMilliseconds(250), $"answered after {slowed.Elapsed}");
        // The PostgreSQL endpoint shares the record: alice's next PostgreSQL attempt waits too.
        var clock = Stopwatch.StartNew();
        await (await f.OpenAsync(Alice, AlicePassword)).DisposeAsync();
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"postgres login after flight failures took {clock.Elapsed}");
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
