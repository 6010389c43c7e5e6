namespace TimeFusion.Client.Cli.Gen;

/// <summary>Where generated rows go: a file of some format, or a server over OTLP.</summary>
public interface ITelemetryWriter : IAsyncDisposable
{
    /// <summary>Writes one row (buffered as the writer needs).</summary>
    ValueTask WriteAsync(TelemetryRecord record, CancellationToken ct);

    /// <summary>Writes what is buffered and completes the output.</summary>
    ValueTask CompleteAsync(CancellationToken ct);
}
