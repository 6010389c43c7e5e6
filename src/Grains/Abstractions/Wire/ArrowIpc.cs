using Apache.Arrow;
using Apache.Arrow.Ipc;

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

    /// <summary>Reads an IPC stream back into its schema and batches.</summary>
    public static (Schema Schema, List<RecordBatch> Batches) Read(byte[] ipc)
    {
        using var reader = new ArrowStreamReader(new MemoryStream(ipc, writable: false));
        var batches = new List<RecordBatch>();
        while (reader.ReadNextRecordBatch() is { } batch) batches.Add(batch);
        return (reader.Schema, batches);
    }
}
