using Apache.Arrow;
using Apache.Arrow.Ipc;
using TimeFusion.Arrow;

namespace TimeFusion.Wire;

/// <summary>Arrow IPC stream encoding of batches, for the wire.</summary>
public static class ArrowIpc
{
    /// <summary>Writes a schema and its batches as one IPC stream.</summary>
    public static byte[] Write(Schema schema, IEnumerable<RecordBatch> batches)
    {
        var list = batches as IReadOnlyCollection<RecordBatch> ?? batches.ToList();
        // Sized for the batches' buffers up front: a MemoryStream growing from empty copies a multi-MB batch several
        // times over (and allocates each intermediate array on the large-object heap).
        var bytes = 64 * 1024L;
        foreach (var b in list)
            foreach (var column in b.Arrays) bytes += BufferBytes(column.Data);
        using var stream = new MemoryStream((int)Math.Min(bytes, System.Array.MaxLength));
        using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteStart();
            foreach (var b in list) writer.WriteRecordBatch(b);
            writer.WriteEnd();
        }
        return stream.ToArray();
    }

    // The bytes of an array's buffers (children and dictionary included), with room for IPC's 8-byte alignment and metadata.
    private static long BufferBytes(ArrayData data)
    {
        var bytes = 256L;
        foreach (var buffer in data.Buffers) bytes += buffer.Length + 8;
        if (data.Children is { } children)
            foreach (var child in children) bytes += BufferBytes(child);
        if (data.Dictionary is { } dictionary) bytes += BufferBytes(dictionary);
        return bytes;
    }

    /// <summary>
    /// Reads an IPC stream back into its schema and batches. The bytes are untrusted (they crossed the network):
    /// <see cref="ArrowIpcPreflight"/> checks their structure before Apache.Arrow's reader parses them, so a hostile
    /// schema is an exception rather than a stack overflow. The batches' buffers are not checked here; whoever hands
    /// them to code that trusts buffers validates them first. The batches refer to <paramref name="ipc"/>: the caller must
    /// not change or reuse the array while they live.
    /// </summary>
    /// <exception cref="ArrowValidationException">The stream is malformed or hostile.</exception>
    public static (Schema Schema, List<RecordBatch> Batches) Read(byte[] ipc)
    {
        ArgumentNullException.ThrowIfNull(ipc);
        ArrowIpcPreflight.CheckStream(ipc);
        // Read over the managed bytes, not a stream: the batches' buffers are slices of `ipc` (kept alive by them), where a
        // stream reader copies every buffer into native memory that, undisposed, a finalizer frees with
        // GC.RemoveMemoryPressure — for small batches a large share of the silo's CPU (docs/BENCHMARKS.md, small INSERTs).
        using var reader = new ArrowStreamReader(new ReadOnlyMemory<byte>(ipc));
        var batches = new List<RecordBatch>();
        while (reader.ReadNextRecordBatch() is { } batch) batches.Add(batch);
        return (reader.Schema, batches);
    }
}
