namespace TimeFusion.Hosting;

/// <summary>
/// How long a table grain keeps a write transaction (a streamed COPY) open without hearing from it; bound from
/// <c>TimeFusion:Ingest</c> beside the engine's <see cref="TimeFusion.Ingest.IngestOptions"/>.
/// </summary>
public sealed class TransactionTimerOptions
{
    /// <summary>A transaction idle this long is aborted (<c>TimeFusion:Ingest:TransactionIdleTimeout</c>). Default 5 min.</summary>
    public TimeSpan TransactionIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Checks <c>TimeFusion:Ingest:TransactionIdleTimeout</c> at start.</summary>
internal sealed class TransactionTimerOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<TransactionTimerOptions>
{
    /// <inheritdoc />
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, TransactionTimerOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Ingest);
        problems.Require(options.TransactionIdleTimeout > TimeSpan.Zero, nameof(options.TransactionIdleTimeout), options.TransactionIdleTimeout, "must be positive");
        return problems.Result;
    }
}
