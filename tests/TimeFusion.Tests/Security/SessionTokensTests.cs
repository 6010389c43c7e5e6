using System.Security.Cryptography;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Delta;

namespace TimeFusion.Tests.Security;

/// <summary>Verified tokens are remembered, but a remembered token still expires, and nothing unverified is ever remembered.</summary>
public sealed class SessionTokensTests
{
    [Fact]
    public void A_token_verified_once_is_accepted_until_it_expires_and_refused_after()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var tokens = new SessionTokens(RandomNumberGenerator.GetBytes(32), clock);
        var token = tokens.Issue("alice", clock.Now.AddMinutes(5));
        Assert.Equal("alice", tokens.UserOf(token));
        Assert.Equal("alice", tokens.UserOf(token)); // remembered
        clock.Now = clock.Now.AddMinutes(6);
        Assert.Null(tokens.UserOf(token));
    }

    [Fact]
    public void Forged_and_tampered_tokens_are_refused_every_time()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var tokens = new SessionTokens(RandomNumberGenerator.GetBytes(32), clock);
        var forged = new SessionTokens(RandomNumberGenerator.GetBytes(32), clock).Issue("root", clock.Now.AddHours(1));
        var good = tokens.Issue("bob", clock.Now.AddHours(1));
        Assert.Equal("bob", tokens.UserOf(good));
        var tampered = good[..^2] + (good[^2] == 'A' ? "B" : "A") + good[^1];
        for (var i = 0; i < 2; i++)
        {
            Assert.Null(tokens.UserOf(forged));
            Assert.Null(tokens.UserOf(tampered));
        }
    }
}
