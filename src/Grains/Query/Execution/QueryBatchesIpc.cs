using Apache.Arrow;
using Apache.Arrow.Ipc;
using TimeFusion.Arrow;

namespace TimeFusion.Query.Execution;

/// <summary>Arrow IPC stream encoding of <see cref="QueryBatches"/>, for sending results across silos.</summary>
public static class QueryBatchesIpc
{
    /// <summary>Writes the schema and every batch as one Arrow IPC stream.</summary>
    public static async Task WriteAsync(QueryBatches batches, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(destination);
        using var writer = new ArrowStreamWriter(destination, batches.Schema, leaveOpen: true);
        await writer.WriteStartAsync(cancellationToken).ConfigureAwait(false);
        foreach (var b in batches.Batches)
            await writer.WriteRecordBatchAsync(b, cancellationToken).ConfigureAwait(false);
        await writer.WriteEndAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The Arrow IPC stream bytes of <paramref name="batches"/>.</summary>
    public static async Task<byte[]> ToBytesAsync(QueryBatches batches, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await WriteAsync(batches, buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Reads an Arrow IPC stream written by <see cref="WriteAsync"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an Arrow IPC stream.</exception>
    public static async Task<QueryBatches> ReadAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var batches = new List<RecordBatch>();
        try
        {
            // Untrusted bytes: the preflight checks the framing and the schema before Apache.Arrow's reader recurses
            // into it. It needs the bytes at hand, so a stream that is not already in memory is read in first.
            if (source is not MemoryStream memory || !memory.TryGetBuffer(out var segment))
            {
                var copy = new MemoryStream();
                await source.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
                copy.Position = 0;
                source = copy;
                copy.TryGetBuffer(out segment);
            }
            ArrowIpcPreflight.CheckStream(segment.AsSpan((int)source.Position));
            using var reader = new ArrowStreamReader(source, leaveOpen: true);
            while (await reader.ReadNextRecordBatchAsync(cancellationToken).ConfigureAwait(false) is { } batch)
                batches.Add(batch);
            var schema = reader.Schema ?? throw new InvalidDataException("the Arrow IPC stream has no schema");
            return new QueryBatches(schema, batches);
        }
        catch (Exception e)
        {
            foreach (var b in batches) b.Dispose();
            if (e is OperationCanceledException or InvalidDataException) throw;
            throw new InvalidDataException("the bytes are not a valid Arrow IPC stream: " + e.Message, e);
        }
    }

    /// <summary>Reads the Arrow IPC stream in <paramref name="bytes"/>.</summary>
    public static Task<QueryBatches> FromBytesAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false, publiclyVisible: true)
            : new MemoryStream(bytes.ToArray(), writable: false);
        return ReadAsync(stream, cancellationToken);
    }
}
