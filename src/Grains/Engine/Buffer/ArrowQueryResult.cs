using Apache.Arrow;
using TimeFusion.DuckDb;

namespace TimeFusion.Buffer;

/// <summary>
/// The result of a query run through <see cref="BufferSnapshot.QueryArrow"/>: an Arrow schema and record
/// batches. Batches are independent of this object (dispose each when done); dispose the result to free
/// what has not been read. Not thread-safe.
/// </summary>
public sealed class ArrowQueryResult : IDisposable
{
    private readonly ArrowQueryReader _reader;

    internal ArrowQueryResult(ArrowQueryReader reader)
    {
        _reader = reader;
    }

    /// <summary>
    /// Runs one statement on a DuckDB connection of the caller's (not used by anything else until the result is
    /// disposed) and returns its rows as Arrow.
    /// </summary>
    /// <exception cref="BufferException">The statement failed; the message is DuckDB's.</exception>
    public static ArrowQueryResult Execute(DuckDB.NET.Data.DuckDBConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return new ArrowQueryResult(ArrowQueryReader.Execute(connection, sql));
    }

    /// <summary>The result's schema (also when it has no rows).</summary>
    public Schema Schema => _reader.Schema;

    /// <summary>The next batch, or null at the end.</summary>
    public RecordBatch? ReadNext() => _reader.ReadNext();

    /// <summary>All remaining batches, in order.</summary>
    public IEnumerable<RecordBatch> ReadAll()
    {
        while (ReadNext() is { } batch)
            yield return batch;
    }

    /// <summary>Frees the native result.</summary>
    public void Dispose() => _reader.Dispose();
}
