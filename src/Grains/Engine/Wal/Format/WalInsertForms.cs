using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using TimeFusion.Arrow;

namespace TimeFusion.Wal;

/// <summary>
/// A schema's Arrow IPC schema message, encoded once per <see cref="Schema"/> instance, and its id (the first 16 bytes
/// of the SHA-256 of those bytes). Segments carry each schema once and refer to it by id.
/// </summary>
internal sealed class WalSchema
{
    // Distinct column masks remembered per schema; past that a projection is derived per entry (still correct).
    private const int MaxProjections = 1024;
    private readonly ConcurrentDictionary<WalColumnMask, Schema> _projections = new();

    public WalSchema(Schema schema, byte[] bytes)
    {
        Schema = schema;
        Bytes = bytes;
        Id = WalInsertForms.IdOf(bytes);
        HasDictionaries = schema.FieldsList.Any(f => WalColumnMask.HasDictionary(f.DataType));
    }

    /// <summary>The schema the message encodes.</summary>
    public Schema Schema { get; }

    /// <summary>The schema message exactly as the IPC stream writer puts it first in a stream.</summary>
    public byte[] Bytes { get; }

    /// <summary>Truncated SHA-256 of <see cref="Bytes"/>.</summary>
    public UInt128 Id { get; }

    /// <summary>
    /// Whether a field is dictionary-encoded: the IPC writer then numbers dictionaries while writing the schema message,
    /// so bodies are written behind a real one (and never projected).
    /// </summary>
    public bool HasDictionaries { get; }

    /// <summary>The sub-schema of the columns <paramref name="mask"/> keeps, derived once per mask.</summary>
    public Schema Projection(WalColumnMask mask)
    {
        if (_projections.TryGetValue(mask, out var projected)) return projected;
        projected = mask.Project(Schema);
        return _projections.Count < MaxProjections ? _projections.GetOrAdd(mask, projected) : projected;
    }
}

/// <summary>
/// An Arrow IPC stream writer that starts without the schema message (the WAL holds it once per segment): what it writes
/// is exactly what <see cref="ArrowStreamWriter"/> writes after that message, and no schema is serialized per entry.
/// Only for schemas without dictionaries (their ids are assigned while the schema message is written).
/// </summary>
internal sealed class WalBodyWriter : ArrowStreamWriter
{
    public WalBodyWriter(Stream stream, Schema schema)
        : base(stream, schema, leaveOpen: true) => HasWrittenSchema = true;
}

/// <summary>
/// The schema-sharing insert payloads. A segment's first insert under a schema carries it inline
/// <c>[FE 01 flags FE][id 16][schema length u32][raw length u32, if compressed][mask, if projected][schema message][body]</c>;
/// later inserts in the same segment carry <c>[FE 02 flags FE][id 16][raw length u32, if compressed][mask, if projected][body]</c>.
/// The body is the IPC messages after the schema (dictionaries, record batch, EOS). Flag <see cref="ProjectedFlag"/>: the
/// body is written under the sub-schema of the columns the <see cref="WalColumnMask"/> keeps (a small batch leaving
/// columns all null); replay puts the left-out columns back as nulls. Flag <see cref="CompressedFlag"/> (written by
/// builds before session 11, read by this one): the body is Brotli-compressed and the raw length is its uncompressed
/// length. Readers put the schema back in front, so consumers always see a complete Arrow IPC stream (a projected body
/// as <see cref="WalProjectedInserts"/>' stream form). The first four bytes read as a little-endian int32 are negative
/// and not -1, which no Arrow IPC stream starts with (it starts with the continuation marker -1 or, in the legacy
/// framing, a positive length): payloads written before these forms (raw IPC streams) still read as they are.
/// </summary>
/// <remarks>
/// Why project small bodies: the record batch message of a wide table carries a fixed 16-byte FieldNode and 16-byte
/// Buffer entries per column (about 5.6 KB for the ~90 otel columns) plus the padded buffers of every null column.
/// Builds before session 11 Brotli-compressed such bodies (quality 1, ~20 µs each, 7 % of the silo's CPU on 30-row
/// INSERTs); leaving the null columns out gets the bytes below the target (1.5× the rows' Arrow data) with no compression.
/// Only batches of up to <see cref="MaxProjectedBytes"/> of data are projected: a large batch is dominated by its data,
/// and replay keeps it in place in its pinned block only when every column is a slice of it.
/// </remarks>
internal static class WalInsertForms
{
    public const byte Marker = 0xFE;
    public const byte InlineForm = 1;
    public const byte ReferenceForm = 2;
    public const int IdBytes = 16;

    /// <summary>Flag: the body is Brotli-compressed, its raw length in the header (read only: this build does not write it).</summary>
    public const byte CompressedFlag = 1;

    /// <summary>Flag: the header ends with a <see cref="WalColumnMask"/> and the body holds only the columns it keeps.</summary>
    public const byte ProjectedFlag = 2;

    /// <summary>The largest raw length a reader accepts for a compressed body (no writer compressed a larger one).</summary>
    public const int MaxCompressedRawBytes = 64 * 1024;

    /// <summary>Batches with at most this many bytes of Arrow buffers are projected (see the remarks of the class).</summary>
    public const int MaxProjectedBytes = 64 * 1024;

    /// <summary>Marker, form, reserved, marker, id.</summary>
    public const int ReferenceHeaderBytes = 4 + IdBytes;

    /// <summary>The reference header plus the schema length.</summary>
    public const int InlineHeaderBytes = ReferenceHeaderBytes + 4;

    private static readonly ConditionalWeakTable<Schema, WalSchema> Cache = new();

    /// <summary>Whether a payload starts like one of these forms (rather than a raw Arrow IPC stream).</summary>
    public static bool HasMarker(ReadOnlySpan<byte> payload) => payload.Length >= 4 && payload[0] == Marker && payload[3] == Marker;

    /// <summary>The schema message of <paramref name="schema"/>, encoded on first use of the instance only.</summary>
    public static WalSchema SchemaOf(Schema schema) => Cache.GetValue(schema, static s => new WalSchema(s, EncodeSchema(s)));

    public static UInt128 IdOf(ReadOnlySpan<byte> schemaBytes)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(schemaBytes, hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    internal static byte[] EncodeSchema(Schema schema)
    {
        using var buffer = new PooledBufferWriter(16 * 1024);
        using (var stream = new PooledBufferStream(buffer))
        using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteStart();
        }
        // The stream is the schema message, which is message is [-1][metadata length][metadata] (no body).
        var bytes = buffer.WrittenSpan;
        if (bytes.Length < 8 || BinaryPrimitives.ReadInt32LittleEndian(bytes) != -1)
            throw new InvalidOperationException("the Arrow IPC writer did not start the stream with a framed schema message");
        var length = 8 + BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        if (length > bytes.Length) throw new InvalidOperationException("the Arrow IPC writer wrote a truncated schema message");
        return bytes[..length].ToArray();
    }

    /// <summary>
    /// Encodes <paramref name="batch"/> (under <paramref name="schema"/>, the schema the reader puts in front of it) as
    /// the IPC messages that follow the schema message (dictionaries, the record batch, EOS) into a pooled buffer. With
    /// <paramref name="check"/> (a schema with dictionaries) the schema message is written and compared instead of
    /// skipped; null if it differs (then the caller logs a raw IPC stream instead, never a reference to a schema that differs).
    /// </summary>
    public static PooledPayload? EncodeBodyPooled(RecordBatch batch, Schema schema, ReadOnlyMemory<byte> check, int capacity)
    {
        var buffer = new PooledBufferWriter(capacity);
        try
        {
            bool matched;
            using (var stream = new PooledBufferStream(buffer, check))
            {
                using (var writer = check.IsEmpty ? new WalBodyWriter(stream, schema) : new ArrowStreamWriter(stream, schema, leaveOpen: true))
                {
                    writer.WriteRecordBatch(batch);
                    writer.WriteEnd();
                }
                matched = stream.PrefixMatched;
            }
            if (matched) return new PooledPayload(buffer);
            buffer.Dispose();
            return null;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>The bytes of the form header: everything before the inline schema and the body.</summary>
    public static int HeaderLength(bool inline, bool compressed, WalColumnMask? mask = null) =>
        (inline ? InlineHeaderBytes : ReferenceHeaderBytes) + (compressed ? 4 : 0) + (mask?.EncodedLength ?? 0);

    /// <summary>
    /// Writes the form header; <paramref name="rawBodyLength"/> is the uncompressed body length of a compressed body
    /// (only tests write one now), else 0; <paramref name="mask"/> the columns of a projected body.
    /// </summary>
    public static void WriteHeader(IBufferWriter<byte> output, WalSchema schema, bool inline, int rawBodyLength, WalColumnMask? mask = null)
    {
        var compressed = rawBodyLength > 0;
        var length = HeaderLength(inline, compressed, mask);
        var span = output.GetSpan(length);
        span[0] = Marker;
        span[1] = inline ? InlineForm : ReferenceForm;
        span[2] = (byte)((compressed ? CompressedFlag : 0) | (mask is null ? 0 : ProjectedFlag));
        span[3] = Marker;
        BinaryPrimitives.WriteUInt128LittleEndian(span[4..], schema.Id);
        var at = ReferenceHeaderBytes;
        if (inline)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], schema.Bytes.Length);
            at += 4;
        }
        if (compressed)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], rawBodyLength);
            at += 4;
        }
        mask?.Write(span[at..]);
        output.Advance(length);
    }
}

/// <summary>
/// The schemas one segment has carried so far, for a reader going through it in order: resolves the schema-sharing
/// insert forms back into complete Arrow IPC streams. Payload bytes are hostile: every length is checked against the
/// bytes present before anything is allocated, an inline schema must hash to its id and pass the IPC preflight.
/// </summary>
internal sealed class WalSegmentSchemas
{
    private readonly Dictionary<UInt128, byte[]> _schemas = [];

    /// <summary>Forgets every schema: each segment is read on its own.</summary>
    public void Reset() => _schemas.Clear();

    /// <summary>
    /// Learns the schema an insert payload carries inline, if any, and returns the payload as consumers see it: a
    /// complete IPC stream (a new array), or a copy of a raw payload. With <paramref name="materialize"/> false (an
    /// entry skipped by the reader) it only learns, returns nothing and leaves references unchecked.
    /// </summary>
    /// <exception cref="WalFormatException">A malformed form, or a reference to a schema this segment does not hold.</exception>
    public ReadOnlyMemory<byte> Resolve(ReadOnlyMemory<byte> payload, bool materialize, string segment, long position) =>
        Resolve(payload, materialize, segment, position, out _);

    /// <summary>
    /// As <see cref="Resolve(ReadOnlyMemory{byte}, bool, string, long)"/>; <paramref name="pinnedBlock"/> is the array the
    /// result fills whole when it was allocated on the pinned object heap (payloads of <see cref="PinnedBytes"/> or more):
    /// a decoded batch pointing into it can be kept by the buffer's tail without another copy.
    /// </summary>
    public ReadOnlyMemory<byte> Resolve(ReadOnlyMemory<byte> payload, bool materialize, string segment, long position, out byte[]? pinnedBlock)
    {
        pinnedBlock = null;
        var span = payload.Span;
        if (!WalInsertForms.HasMarker(span))
        {
            if (!materialize) return default;
            var copy = Allocate(span.Length, out pinnedBlock);
            span.CopyTo(copy);
            return copy;
        }
        // Flags are Compressed (older builds) or Projected, never both: anything else is a form this build does not know.
        if (span.Length < WalInsertForms.ReferenceHeaderBytes || span[2] is not (0 or WalInsertForms.CompressedFlag or WalInsertForms.ProjectedFlag)
            || span[1] is not (WalInsertForms.InlineForm or WalInsertForms.ReferenceForm))
            throw Damaged(segment, position, $"unknown insert payload form (form {span[1]}, flags {span[2]}, {span.Length} bytes)");
        var inline = span[1] == WalInsertForms.InlineForm;
        var compressed = span[2] == WalInsertForms.CompressedFlag;
        var header = WalInsertForms.HeaderLength(inline, compressed);
        if (span.Length < header) throw Damaged(segment, position, "insert payload ends inside its form header");
        WalColumnMask? mask = null;
        if (span[2] == WalInsertForms.ProjectedFlag)
        {
            try
            {
                mask = WalColumnMask.Read(span[header..], out var maskLength);
                header += maskLength;
            }
            catch (WalFormatException e)
            {
                throw new WalFormatException($"WAL segment '{segment}', entry at byte {position}: {e.Message}", e);
            }
        }
        var id = BinaryPrimitives.ReadUInt128LittleEndian(span[4..]);
        var schemaLength = inline ? BinaryPrimitives.ReadUInt32LittleEndian(span[WalInsertForms.ReferenceHeaderBytes..]) : 0;
        if (schemaLength > (uint)(span.Length - header))
            throw Damaged(segment, position, $"inline schema of {schemaLength} bytes does not fit the {span.Length}-byte payload");
        var body = payload[(header + (int)schemaLength)..];
        if (!_schemas.TryGetValue(id, out var schema))
        {
            if (!inline)
            {
                // A skipped entry is not checked: only what is handed to consumers must resolve.
                if (!materialize) return default;
                throw Damaged(segment, position, $"insert refers to schema {id:x32}, which no earlier entry of the segment carries (that entry is missing or damaged)");
            }
            var bytes = payload.Slice(header, (int)schemaLength);
            if (WalInsertForms.IdOf(bytes.Span) != id) throw Damaged(segment, position, "inline schema does not match its id");
            try
            {
                ArrowIpcPreflight.CheckStream(bytes.Span);
            }
            catch (ArrowValidationException e)
            {
                throw new WalFormatException($"WAL segment '{segment}', entry at byte {position}: inline schema is not a valid schema message: {e.Message}", e);
            }
            // A copy: the payload lives in the scanner's window, reused for the next entry.
            schema = bytes.ToArray();
            _schemas.Add(id, schema);
        }
        if (!materialize) return default;
        if (mask is not null) return WalProjectedInserts.Materialize(id, schema, mask, body.Span, segment, position, out pinnedBlock);
        if (!compressed)
        {
            var stream = Allocate(schema.Length + body.Length, out pinnedBlock);
            schema.CopyTo(stream, 0);
            body.Span.CopyTo(stream.AsSpan(schema.Length));
            return stream;
        }
        var raw = BinaryPrimitives.ReadUInt32LittleEndian(span[(header - 4)..]);
        // Checked before allocating: a writer compresses nothing larger.
        if (raw is 0 or > WalInsertForms.MaxCompressedRawBytes)
            throw Damaged(segment, position, $"compressed insert body declares {raw} bytes (at most {WalInsertForms.MaxCompressedRawBytes})");
        var result = Allocate(schema.Length + (int)raw, out pinnedBlock);
        schema.CopyTo(result, 0);
        if (!BrotliDecoder.TryDecompress(body.Span, result.AsSpan(schema.Length), out var written) || written != raw)
            throw Damaged(segment, position, $"compressed insert body does not decompress to its declared {raw} bytes");
        return result;
    }

    /// <summary>Payloads from this size on are materialized on the pinned object heap (a batch of a few thousand rows or more).</summary>
    internal const int PinnedBytes = 256 << 10;

    /// <summary>
    /// A new array for a materialized payload, filled whole by the caller. Large ones go to the pinned object heap, not
    /// zeroed first: the tail keeps the batch decoded over it as it is, where it would otherwise copy it there.
    /// </summary>
    internal static byte[] Allocate(int length, out byte[]? pinnedBlock)
    {
        if (length < PinnedBytes)
        {
            pinnedBlock = null;
            return new byte[length];
        }
        pinnedBlock = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        return pinnedBlock;
    }

    private static WalFormatException Damaged(string segment, long position, string reason) =>
        new($"WAL segment '{segment}', entry at byte {position}: {reason}");
}
