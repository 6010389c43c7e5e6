using Apache.Arrow;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Protocol.Flight;

namespace TimeFusion.Tests.Protocol.Flight;

public sealed class FlightUnitTests
{
    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Theory]
    [InlineData("42601", StatusCode.InvalidArgument)]
    [InlineData("42703", StatusCode.InvalidArgument)]
    [InlineData("22023", StatusCode.InvalidArgument)]
    [InlineData("42P01", StatusCode.NotFound)]
    [InlineData("42501", StatusCode.PermissionDenied)]
    [InlineData("53200", StatusCode.ResourceExhausted)]
    [InlineData("0A000", StatusCode.Unimplemented)]
    [InlineData("XX000", StatusCode.Internal)]
    public void Sqlstates_map_to_grpc_status_codes(string sqlState, StatusCode expected)
    {
        Assert.Equal(expected, FlightErrors.CodeFor(sqlState));
        var e = FlightErrors.From(sqlState, "boom");
        Assert.Equal(expected, e.StatusCode);
        Assert.Equal($"[{sqlState}] boom", e.Status.Detail);
        Assert.Equal(sqlState, e.Trailers.GetValue(FlightErrors.SqlStateTrailer));
    }

    [Fact]
    public void Retryable_errors_without_a_class_of_their_own_are_Unavailable()
    {
        Assert.Equal(StatusCode.Unavailable, FlightErrors.CodeFor("58030", isRetryable: true));
        Assert.Equal(StatusCode.Internal, FlightErrors.CodeFor("58030"));
    }

    [Fact]
    public void Bearer_tokens_name_their_user_until_they_expire_and_cannot_be_forged()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var tokens = new FlightBearerTokens(Options.Create(new FlightEndpointOptions { TokenLifetime = TimeSpan.FromMinutes(10) }), time);
        var token = tokens.Issue("ålice");
        Assert.Equal("ålice", tokens.Verify(token));

        var other = new FlightBearerTokens(Options.Create(new FlightEndpointOptions()), time);
        Assert.Null(other.Verify(token)); // another key (another silo or a restart)
        Assert.Null(tokens.Verify(token[..^2] + (token[^1] == 'A' ? "BB" : "AA")));
        Assert.Null(tokens.Verify("garbage"));
        Assert.Null(tokens.Verify("!!.!!"));

        time.Now += TimeSpan.FromMinutes(11);
        Assert.Null(tokens.Verify(token));
    }

    [Fact]
    public void Large_batches_are_split_into_row_slices_of_about_the_target_size()
    {
        var batch = FlightTestBatches.Rows(FlightTestBatches.Ids("s", 1000), nameLength: 1000); // ~1 MB
        var parts = TimeFusionFlightServer.Split(batch, 100_000).ToList();
        Assert.InRange(parts.Count, 9, 12);
        Assert.Equal(1000, parts.Sum(p => p.Length));
        Assert.Equal(FlightTestBatches.Ids("s", 1000),
            parts.SelectMany(p => Enumerable.Range(0, p.Length).Select(i => ((StringArray)p.Column(0)).GetString(i))));
        Assert.Same(batch, Assert.Single(TimeFusionFlightServer.Split(batch, 10_000_000)));
    }
}
