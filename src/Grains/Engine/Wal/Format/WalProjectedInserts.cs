using System.Buffers.Binary;
using System.Collections.Concurrent;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using TimeFusion.Arrow;

namespace TimeFusion.Wal;

/// <summary>
/// How readers hand consumers a projected insert (<see cref="WalInsertForms.ProjectedFlag"/>): as the stream form
/// <c>[FE 03 00 FE][id 16][schema length u32][mask][schema message][projected schema message][body]</c> — the full
/// schema, the mask, and a complete Arrow IPC stream of the kept columns. <see cref="WalPayloads.ReadInsert(ReadOnlyMemory{byte})"/> reads it
/// back as the full-width batch (left-out columns are shared all-null columns). Consumers never see the segment's
/// form; the bytes are hostile all the same (a quarantined payload is read back by hand).
/// </summary>
/// <remarks>
/// The full schema is parsed once per process (per id) and each projected schema message derived and encoded once per
/// (schema, mask), not per entry.
/// </remarks>
internal static class WalProjectedInserts
{
    /// <summary>The form byte of the stream form handed to consumers (never written to a segment).</summary>
    public const byte StreamForm = 3;

    private const int FixedBytes = 4 + WalInsertForms.IdBytes + 4;
    private const int MaxSchemas = 64, MaxMasksPerSchema = 1024;

    private static readonly ConcurrentDictionary<UInt128, KnownSchema> Schemas = new();

    /// <summary>Whether a payload is the stream form.</summary>
    public static bool IsStreamForm(ReadOnlySpan<byte> payload) => WalInsertForms.HasMarker(payload) && payload[1] == StreamForm;

    /// <summary>
    /// The stream form of a projected entry: <paramref name="schema"/> (the segment's schema message with id
    /// <paramref name="id"/>, already checked), <paramref name="mask"/> and the entry's <paramref name="body"/>.
    /// </summary>
    /// <exception cref="WalFormatException">The mask does not fit the schema.</exception>
    public static byte[] Materialize(UInt128 id, byte[] schema, WalColumnMask mask, ReadOnlySpan<byte> body, string segment, long position,
        out byte[]? pinnedBlock)
    {
        byte[] projected;
        try
        {
            projected = Learn(id, schema).ProjectedMessage(mask);
        }
        catch (WalFormatException e)
        {
            throw new WalFormatException($"WAL segment '{segment}', entry at byte {position}: {e.Message}", e);
        }
        var length = FixedBytes + mask.EncodedLength + schema.Length + projected.Length + body.Length;
        var result = WalSegmentSchemas.Allocate(length, out pinnedBlock);
        var span = result.AsSpan();
        span[0] = WalInsertForms.Marker;
        span[1] = StreamForm;
        span[2] = 0;
        span[3] = WalInsertForms.Marker;
        BinaryPrimitives.WriteUInt128LittleEndian(span[4..], id);
        BinaryPrimitives.WriteInt32LittleEndian(span[(4 + WalInsertForms.IdBytes)..], schema.Length);
        var at = FixedBytes;
        mask.Write(span[at..]);
        at += mask.EncodedLength;
        schema.CopyTo(span[at..]);
        at += schema.Length;
        projected.CopyTo(span[at..]);
        at += projected.Length;
        body.CopyTo(span[at..]);
        return result;
    }

    /// <summary>
    /// Reads the stream form back as the full-width batch, without checking its buffers (as
    /// <see cref="WalPayloads.ReadInsert(ReadOnlyMemory{byte})"/>): the kept columns reference <paramref name="payload"/>.
    /// </summary>
    /// <exception cref="WalFormatException">A malformed form, a schema not matching its id, a body not holding the mask's columns.</exception>
    public static RecordBatch Read(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        if (span.Length < FixedBytes || span[2] != 0) throw new WalFormatException($"malformed projected insert ({span.Length} bytes, flags {(span.Length > 2 ? span[2] : 0)})");
        var id = BinaryPrimitives.ReadUInt128LittleEndian(span[4..]);
        var schemaLength = BinaryPrimitives.ReadUInt32LittleEndian(span[(4 + WalInsertForms.IdBytes)..]);
        var mask = WalColumnMask.Read(span[FixedBytes..], out var maskLength);
        var at = FixedBytes + maskLength;
        if (schemaLength > (uint)(span.Length - at)) throw new WalFormatException($"projected insert's schema of {schemaLength} bytes does not fit its {span.Length} bytes");
        var known = Learn(id, span.Slice(at, (int)schemaLength));
        // The projection must be one this mask allows on this schema (checked once per mask).
        known.ProjectedMessage(mask);
        // A plain IPC stream: a stream form nested in a stream form is refused (by the IPC preflight), not recursed into.
        var projected = WalPayloads.ReadInsert(payload[(at + (int)schemaLength)..], projected: false);
        try
        {
            return mask.Widen(projected, known.Schema);
        }
        catch
        {
            projected.Dispose();
            throw;
        }
    }

    /// <summary>The parsed schema of <paramref name="id"/>; its bytes are checked against the id when not known yet.</summary>
    private static KnownSchema Learn(UInt128 id, ReadOnlySpan<byte> bytes)
    {
        if (Schemas.TryGetValue(id, out var known))
        {
            if (!bytes.SequenceEqual(known.Bytes)) throw new WalFormatException($"projected insert's schema does not match its id {id:x32}");
            return known;
        }
        if (WalInsertForms.IdOf(bytes) != id) throw new WalFormatException($"projected insert's schema does not match its id {id:x32}");
        Schema schema;
        try
        {
            ArrowIpcPreflight.CheckStream(bytes);
            var copy = bytes.ToArray();
            using var reader = new ArrowStreamReader(copy);
            schema = reader.Schema;
            known = new KnownSchema(copy, schema);
        }
        catch (Exception e) when (e is not WalFormatException and not OutOfMemoryException)
        {
            throw new WalFormatException($"projected insert's schema is not a readable schema message: {e.GetType().Name}: {e.Message}", e);
        }
        if (Schemas.Count >= MaxSchemas) Schemas.Clear();
        return Schemas.GetOrAdd(id, known);
    }

    private sealed class KnownSchema(byte[] bytes, Schema schema)
    {
        private readonly ConcurrentDictionary<WalColumnMask, byte[]> _projected = new();

        public byte[] Bytes { get; } = bytes;

        public Schema Schema { get; } = schema;

        /// <summary>The schema message of the columns <paramref name="mask"/> keeps (derived once per mask).</summary>
        public byte[] ProjectedMessage(WalColumnMask mask)
        {
            if (_projected.TryGetValue(mask, out var message)) return message;
            message = WalInsertForms.EncodeSchema(mask.Project(Schema));
            return _projected.Count < MaxMasksPerSchema ? _projected.GetOrAdd(mask, message) : message;
        }
    }
}
