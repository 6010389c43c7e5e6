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
        using var stream = new MemoryStream();
        using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteStart();
            foreach (var b in batches) writer.WriteRecordBatch(b);
            writer.WriteEnd();
        }
        return stream.ToArray();
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
