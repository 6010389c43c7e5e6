using TimeFusion.Hosting;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Hosting;

/// <summary>
/// <see cref="ExceptionTranslationFilter.Translate"/> for the failures a client can meet while silos come and go: each
/// gets a retryable SQLSTATE, never XX000, and none carries a storage URL to the client.
/// </summary>
public sealed class ExceptionTranslationTests
{
    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(0)]
    public void An_unclassified_storage_failure_is_a_retryable_io_error_without_the_storage_text(int status)
    {
        var translated = ExceptionTranslationFilter.Translate(
            new Azure.RequestFailedException(status, "https://account.blob.core.windows.net/wal/svc/x?sig=secret Server busy"));
        Assert.NotNull(translated);
        Assert.Equal("58030", translated.SqlState);
        Assert.True(translated.IsRetryable);
        Assert.DoesNotContain("blob.core", translated.Message);
        Assert.DoesNotContain("secret", translated.Message);
    }

    [Fact]
    public void A_storage_request_without_a_response_is_a_retryable_io_error()
    {
        var translated = ExceptionTranslationFilter.Translate(new System.Net.Http.HttpRequestException("Connection refused (127.0.0.1:10000)"));
        Assert.Equal(("58030", true), (translated!.SqlState, translated.IsRetryable));
    }

    [Fact]
    public void Several_failures_at_once_speak_through_the_first_translated_one()
    {
        var fenced = new AggregateException(new InvalidCastException("x"), new AggregateException(new WalConflictException("lease taken")));
        var translated = ExceptionTranslationFilter.Translate(fenced);
        Assert.Equal(("40001", true), (translated!.SqlState, translated.IsRetryable));
        Assert.Null(ExceptionTranslationFilter.Translate(new AggregateException(new InvalidCastException("a bug"))));
    }

    [Fact]
    public void A_call_to_a_table_closing_for_a_hand_over_is_retryable()
    {
        var translated = ExceptionTranslationFilter.Translate(new ObjectDisposedException("TableGrain", "the table is closed here (moving between silos)"));
        Assert.Equal(("40003", true), (translated!.SqlState, translated.IsRetryable));
    }

    [Fact]
    public void A_result_stream_whose_table_moved_mid_read_is_a_retryable_serialization_failure()
    {
        // What Orleans throws to the reader when the grain streaming a result was deactivated meanwhile (a rolling restart).
        var translated = ExceptionTranslationFilter.Translate(new EnumerationAbortedException("Enumeration aborted: the remote target does not have a record of this enumerator."));
        Assert.Equal(("40001", true), (translated!.SqlState, translated.IsRetryable));
    }
}
