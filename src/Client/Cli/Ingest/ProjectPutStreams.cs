using Apache.Arrow;
using TimeFusion.Client.Cli.Flight;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>
/// One DoPut per project (descriptor <c>[project, table]</c>; <c>[table]</c> for the user's default project), opened
/// when the project's first batch comes: the Flight door writes each call into one project.
/// </summary>
public sealed class ProjectPutStreams(FlightConnection connection, string table, Schema schema) : IAsyncDisposable
{
    private readonly Dictionary<string, PutStream> _streams = new(StringComparer.Ordinal);

    /// <summary>The projects written so far ("" = the user's default project).</summary>
    public IEnumerable<string> Projects => _streams.Keys;

    /// <summary>Sends a batch to its project; returns the rows acknowledged.</summary>
    public async Task<long> PutAsync(string project, RecordBatch batch, CancellationToken ct)
    {
        if (!_streams.TryGetValue(project, out var stream))
        {
            stream = await connection.StartPutAsync(project.Length == 0 ? null : project, table, schema, ct);
            _streams.Add(project, stream);
        }
        return await stream.PutAsync(batch, ct);
    }

    /// <summary>Ends every upload.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        foreach (var stream in _streams.Values) await stream.CompleteAsync(ct);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var stream in _streams.Values) await stream.DisposeAsync();
    }
}
