using System.Buffers;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using MessagePack;
using TimeFusion.Arrow;

namespace TimeFusion.Wal;

/// <summary>
/// Payload encodings: an insert is an Arrow IPC stream (schema message, dictionaries, one record batch), so every
/// Arrow type is carried and each entry is read under the schema it was written with (on disk, a segment holds each
/// schema once: see <see cref="WalInsertForms"/>; readers get the complete stream back); a delete/update is a MessagePack
/// DML record <c>[version, predicate, [[column, expression], …]]</c>. Decoding treats the bytes as hostile.
/// </summary>
public static class WalPayloads
{
    private const int DmlVersion = 1;

    /// <summary>Encodes a record batch (with its schema) as Arrow IPC stream bytes.</summary>
    public static byte[] EncodeInsert(RecordBatch batch)
    {
        using var payload = EncodeInsertPooled(batch);
        return payload.Memory.ToArray();
    }

    /// <summary>As <see cref="EncodeInsert"/>, into a pooled buffer released on dispose.</summary>
    internal static PooledPayload EncodeInsertPooled(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var buffer = new PooledBufferWriter(EstimateCapacity(batch));
        try
        {
            using (var stream = new PooledBufferStream(buffer))
            using (var writer = new ArrowStreamWriter(stream, batch.Schema, leaveOpen: true))
            {
                writer.WriteRecordBatch(batch);
                writer.WriteEnd();
            }
            return new PooledPayload(buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decodes an insert payload into a record batch whose buffers were checked by <see cref="ArrowStructureValidator"/>.
    /// The batch references <paramref name="payload"/>: keep those bytes alive and unchanged while using it.
    /// </summary>
    /// <exception cref="WalFormatException">Not exactly one valid record batch in a well-formed Arrow IPC stream.</exception>
    public static RecordBatch DecodeInsert(ReadOnlyMemory<byte> payload)
    {
        var batch = ReadInsert(payload);
        try
        {
            ArrowStructureValidator.Validate(batch);
            return batch;
        }
        catch (ArrowValidationException e)
        {
            batch.Dispose();
            throw new WalFormatException($"insert payload is not a valid Arrow batch: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads the one record batch of an insert payload (an IPC stream, or the stream form of a projected insert, see
    /// <see cref="WalProjectedInserts"/>) after the IPC preflight, without checking its buffers: the result is untrusted
    /// (replay hands it to <see cref="Ingest.BatchValidator"/>, which checks it once).
    /// </summary>
    /// <exception cref="WalFormatException">Not exactly one record batch in a well-framed Arrow IPC stream.</exception>
    internal static RecordBatch ReadInsert(ReadOnlyMemory<byte> payload) => ReadInsert(payload, projected: true);

    /// <summary>As <see cref="ReadInsert(ReadOnlyMemory{byte})"/>; without <paramref name="projected"/> only a plain IPC stream (no nesting).</summary>
    internal static RecordBatch ReadInsert(ReadOnlyMemory<byte> payload, bool projected)
    {
        try
        {
            // A projected insert as readers hand it out: rebuilt to its full width.
            if (projected && WalProjectedInserts.IsStreamForm(payload.Span)) return WalProjectedInserts.Read(payload);
            ArrowIpcPreflight.CheckStream(payload.Span);
            using var reader = new ArrowStreamReader(payload);
            var batch = reader.ReadNextRecordBatch() ?? throw new WalFormatException("insert payload holds no record batch");
            if (reader.ReadNextRecordBatch() is { } extra)
            {
                extra.Dispose();
                batch.Dispose();
                throw new WalFormatException("insert payload holds more than one record batch");
            }
            return batch;
        }
        catch (WalFormatException)
        {
            throw;
        }
        catch (ArrowValidationException e)
        {
            throw new WalFormatException($"insert payload is not a valid Arrow batch: {e.Message}", e);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new WalFormatException($"insert payload is not a readable Arrow IPC stream: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>Encodes a delete/update record.</summary>
    public static byte[] EncodeDml(DmlRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(record.Predicate);
        ArgumentNullException.ThrowIfNull(record.Assignments);
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(DmlVersion);
        writer.Write(record.Predicate);
        writer.WriteArrayHeader(record.Assignments.Count);
        foreach (var (column, expression) in record.Assignments)
        {
            ArgumentException.ThrowIfNullOrEmpty(column);
            ArgumentNullException.ThrowIfNull(expression);
            writer.WriteArrayHeader(2);
            writer.Write(column);
            writer.Write(expression);
        }
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a delete/update record, checking every type and count.</summary>
    /// <exception cref="WalFormatException">Malformed, wrong types, missing fields, unknown version.</exception>
    public static DmlRecord DecodeDml(ReadOnlyMemory<byte> payload)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            Expect(ref reader, MessagePackType.Array, "record");
            var count = reader.ReadArrayHeader();
            if (count < 1) throw new WalFormatException("DML record is an empty array");
            Expect(ref reader, MessagePackType.Integer, "version");
            var version = reader.ReadInt64();
            if (version != DmlVersion) throw new WalFormatException($"unsupported DML record version {version} (this build reads {DmlVersion})");
            if (count != 3) throw new WalFormatException($"DML record has {count} fields, expected 3");
            Expect(ref reader, MessagePackType.String, "predicate");
            var predicate = reader.ReadString()!;
            Expect(ref reader, MessagePackType.Array, "assignments");
            var n = reader.ReadArrayHeader();
            // Each assignment takes at least 3 bytes: a count above that is a lie, not an allocation size.
            if (n > (reader.Sequence.Length - reader.Consumed) / 3) throw new WalFormatException($"DML record claims {n} assignments, more than its bytes can hold");
            var assignments = new KeyValuePair<string, string>[n];
            for (var i = 0; i < n; i++)
            {
                Expect(ref reader, MessagePackType.Array, "assignment");
                if (reader.ReadArrayHeader() != 2) throw new WalFormatException($"DML assignment {i} is not a [column, expression] pair");
                Expect(ref reader, MessagePackType.String, "assignment column");
                var column = reader.ReadString()!;
                if (column.Length == 0) throw new WalFormatException($"DML assignment {i} has an empty column name");
                Expect(ref reader, MessagePackType.String, "assignment expression");
                assignments[i] = new KeyValuePair<string, string>(column, reader.ReadString()!);
            }
            if (!reader.End) throw new WalFormatException("DML record has bytes after its last field");
            return new DmlRecord(predicate, assignments);
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentException)
        {
            throw new WalFormatException($"malformed DML record: {e.Message}", e);
        }
    }

    private static void Expect(ref MessagePackReader reader, MessagePackType type, string field)
    {
        if (reader.End) throw new WalFormatException($"DML record ends before field '{field}'");
        var actual = reader.NextMessagePackType;
        if (actual != type) throw new WalFormatException($"DML record field '{field}' is {actual}, expected {type}");
    }

    /// <summary>A starting capacity for the encoded bytes of <paramref name="batch"/>.</summary>
    internal static int EstimateCapacity(RecordBatch batch) => (int)Math.Min(int.MaxValue / 2, EstimateBytes(batch));

    private static long EstimateBytes(RecordBatch batch)
    {
        long total = 16 * 1024;
        for (var i = 0; i < batch.ColumnCount; i++) total += DataBytes(batch.Column(i).Data);
        return total;
    }

    private static long DataBytes(ArrayData data)
    {
        long total = 64;
        foreach (var b in data.Buffers ?? []) total += b.Length + 8;
        foreach (var c in data.Children ?? []) total += DataBytes(c);
        if (data.Dictionary is { } d) total += DataBytes(d);
        return total;
    }
}

/// <summary>Encoded payload bytes in a pooled buffer.</summary>
internal sealed class PooledPayload(PooledBufferWriter buffer) : IDisposable
{
    public ReadOnlyMemory<byte> Memory => buffer.WrittenMemory;

    public void Dispose() => buffer.Dispose();
}
