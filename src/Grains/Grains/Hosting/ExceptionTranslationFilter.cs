using Microsoft.Extensions.Logging;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Engine;
using TimeFusion.Ingest;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wal;
using TimeFusion.Wire;

namespace TimeFusion.Hosting;

/// <summary>
/// Turns engine exceptions into <see cref="TimeFusionException"/> with a SQLSTATE before they leave a grain, so
/// clients (and the PostgreSQL protocol) get a stable code and message, whatever the engine type was.
/// </summary>
public sealed class ExceptionTranslationFilter(ILogger<ExceptionTranslationFilter> logger) : IIncomingGrainCallFilter
{
    /// <inheritdoc />
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (Translate(e) is { } translated)
        {
            if (translated.SqlState.StartsWith("XX", StringComparison.Ordinal) || translated.SqlState.StartsWith("58", StringComparison.Ordinal))
                logger.LogError(e, "{Method} failed", context.MethodName);
            throw translated;
        }
    }

    /// <summary>The client-facing error for an engine exception, or null to let it through unchanged.</summary>
    public static TimeFusionException? Translate(Exception e) => e switch
    {
        TimeFusionException => null,
        SqlPlanningException p => new(p.SqlState, p.Message),
        TimeFusion.Sql.SqlSyntaxException s => new(s.SqlState, s.Message),
        QueryExecutionException q => new(q.SqlState, q.Message),
        BatchRejectedException b => new(b.SqlState, b.Message),
        TimeFusion.Dml.DmlRejectedException d => new(SqlState.InvalidParameterValue, d.Message),
        SchemaException s => new(SqlState.InvalidTableDefinition, s.Message),
        TimeFusion.Transactions.TransactionNotFoundException t => new(SqlState.SerializationFailure, t.Message, isRetryable: true),
        MemoryPressureException m => new(SqlState.OutOfMemory, m.Message, isRetryable: true),
        TableFaultedException { InnerException: WalConflictException } t => new(SqlState.SerializationFailure, t.Message, isRetryable: true),
        TableFaultedException t => new(SqlState.IoError, t.Message, isRetryable: true),
        WalConflictException w => new(SqlState.SerializationFailure, w.Message, isRetryable: true),
        WalFaultedException { InnerException: WalConflictException } w => new(SqlState.SerializationFailure, w.Message, isRetryable: true),
        WalException w => new(SqlState.IoError, w.Message, isRetryable: true),
        DeltaConcurrentCommitException d => new(SqlState.SerializationFailure, d.Message, isRetryable: true),
        DeltaUnsupportedFeatureException d => new(SqlState.FeatureNotSupported, d.Message),
        DeltaException d => new(SqlState.InternalError, d.Message),
        IOException io => new(SqlState.IoError, io.Message, isRetryable: true),
        // Storage requests the engine does not classify itself (Azure answering 5xx or not at all, while silos come and
        // go and Azure or Azurite is loaded): transient for the client, and the response's text (URLs, request ids)
        // stays in the log.
        Azure.RequestFailedException r => new(SqlState.IoError, $"a storage request failed (status {r.Status}); retry the statement", isRetryable: true),
        System.Net.Http.HttpRequestException => new(SqlState.IoError, "a storage request failed (no response); retry the statement", isRetryable: true),
        // Several failures at once (parallel storage calls): the first one that has a translation speaks for them.
        AggregateException a => a.Flatten().InnerExceptions.Select(Translate).FirstOrDefault(t => t is not null),
        // A silo died, stopped or was declared dead while the call ran: Orleans re-places the grain on the next call.
        SiloUnavailableException or OrleansMessageRejectionException or TimeoutException =>
            new(SqlState.StatementCompletionUnknown, "the silo holding a table became unavailable; the statement may or may not have been applied", isRetryable: true),
        // A query was reading a table's result stream when the table's grain was deactivated (its silo stopping, a
        // hand-over): the new activation has no record of the stream. Nothing was written; reading again succeeds.
        EnumerationAbortedException =>
            new(SqlState.SerializationFailure, "the table moved between silos while the statement read it; retry the statement", isRetryable: true),
        // Other cluster-level failures while silos come and go (activation forwarding, a table closing for hand-over).
        OrleansException or ObjectDisposedException =>
            new(SqlState.StatementCompletionUnknown, "the table was moving between silos; the statement may or may not have been applied", isRetryable: true),
        _ => null,
    };
}
