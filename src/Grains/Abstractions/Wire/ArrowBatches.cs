using Apache.Arrow;

namespace TimeFusion.Wire;

/// <summary>
/// A query result or an insert payload as it crosses silos and clients: an Arrow schema and its batches.
/// Serialized by Orleans as one Arrow IPC stream (<see cref="ArrowBatchesConverter"/>), so every Arrow type travels.
/// Built from IPC bytes it decodes lazily, and re-sending it reuses the bytes instead of encoding again.
/// </summary>
public sealed class ArrowBatches
{
    private Schema? _schema;
    private IReadOnlyList<RecordBatch>? _batches;
    private byte[]? _ipc;
    private long _rows = -1;

    /// <summary>Creates a result; every batch must have <paramref name="schema"/>'s columns.</summary>
    public ArrowBatches(Schema schema, IReadOnlyList<RecordBatch> batches)
    {
        _schema = schema;
        _batches = batches;
    }

    private ArrowBatches(byte[] ipc) => _ipc = ipc;

    /// <summary>A result held as an Arrow IPC stream (decoded on first access).</summary>
    public static ArrowBatches FromIpc(byte[] ipc) => new(ipc ?? throw new ArgumentNullException(nameof(ipc)));

    /// <summary>The result schema (present even when there are no rows).</summary>
    public Schema Schema => Decoded()._schema!;

    /// <summary>The batches, in order.</summary>
    public IReadOnlyList<RecordBatch> Batches => Decoded()._batches!;

    /// <summary>Total rows.</summary>
    public long RowCount
    {
        get
        {
            if (_rows < 0)
            {
                long rows = 0;
                foreach (var b in Batches) rows += b.Length;
                _rows = rows;
            }
            return _rows;
        }
    }

    /// <summary>The IPC stream of this result (encoded once).</summary>
    public byte[] ToIpc() => _ipc ??= ArrowIpc.Write(_schema!, _batches!);

    private ArrowBatches Decoded()
    {
        if (_batches is null)
        {
            var (schema, batches) = ArrowIpc.Read(_ipc!);
            (_schema, _batches) = (schema, batches);
        }
        return this;
    }
}
