using System.Buffers;
using System.Buffers.Binary;
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
    public WalSchema(byte[] bytes)
    {
        Bytes = bytes;
        Id = WalInsertForms.IdOf(bytes);
    }

    /// <summary>The schema message exactly as the IPC stream writer puts it first in a stream.</summary>
    public byte[] Bytes { get; }

    /// <summary>Truncated SHA-256 of <see cref="Bytes"/>.</summary>
    public UInt128 Id { get; }
}

/// <summary>
/// The schema-sharing insert payloads. A segment's first insert under a schema carries it inline
/// <c>[FE 01 flags FE][id 16][schema length u32][raw length u32, if compressed][schema message][body]</c>; later
/// inserts in the same segment carry <c>[FE 02 flags FE][id 16][raw length u32, if compressed][body]</c>. The body is
/// the IPC messages after the schema (dictionaries, record batch, EOS), Brotli-compressed with flag
/// <see cref="CompressedFlag"/> (the raw length is then its uncompressed length). Readers put the
/// schema back in front, so consumers always see a complete Arrow IPC stream. The first four bytes read as a
/// little-endian int32 are negative and not -1, which no Arrow IPC stream starts with (it starts with the continuation
/// marker -1 or, in the legacy framing, a positive length): payloads written before these forms (raw IPC streams)
/// still read as they are.
/// </summary>
/// <remarks>
/// Why compress small bodies: the record batch message of a wide table carries a fixed 16-byte FieldNode and
/// 16-byte Buffer entries per column (about 5.6 KB for the ~90 otel columns) and builders pad every buffer to 64 bytes,
/// mostly zeros for the null columns of a small batch. Without the schema a one-row otel entry is still ~1.5× its Arrow
/// data bytes; Brotli at quality 1 takes ~20 µs for such a body and shrinks it ~19×. Only bodies up to
/// <see cref="MaxCompressedRawBytes"/> are compressed (large batches are dominated by their data and gain little), which
/// also bounds what a reader allocates for a hostile declared length.
/// </remarks>
internal static class WalInsertForms
{
    public const byte Marker = 0xFE;
    public const byte InlineForm = 1;
    public const byte ReferenceForm = 2;
    public const int IdBytes = 16;

    /// <summary>Flag: the body is <c>[raw length u32][Brotli bytes]</c>.</summary>
    public const byte CompressedFlag = 1;

    /// <summary>The largest body that is compressed, and the largest raw length a reader accepts for a compressed one.</summary>
    public const int MaxCompressedRawBytes = 64 * 1024;

    private const int BrotliQuality = 1, BrotliWindow = 18;

    /// <summary>Marker, form, reserved, marker, id.</summary>
    public const int ReferenceHeaderBytes = 4 + IdBytes;

    /// <summary>The reference header plus the schema length.</summary>
    public const int InlineHeaderBytes = ReferenceHeaderBytes + 4;

    private static readonly ConditionalWeakTable<Schema, WalSchema> Cache = new();

    /// <summary>Whether a payload starts like one of these forms (rather than a raw Arrow IPC stream).</summary>
    public static bool HasMarker(ReadOnlySpan<byte> payload) => payload.Length >= 4 && payload[0] == Marker && payload[3] == Marker;

    /// <summary>The schema message of <paramref name="schema"/>, encoded on first use of the instance only.</summary>
    public static WalSchema SchemaOf(Schema schema) => Cache.GetValue(schema, static s => new WalSchema(EncodeSchema(s)));

    public static UInt128 IdOf(ReadOnlySpan<byte> schemaBytes)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(schemaBytes, hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private static byte[] EncodeSchema(Schema schema)
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
    /// Encodes <paramref name="batch"/> as the IPC messages that follow its schema message (dictionaries, the record
    /// batch, EOS) into a pooled buffer; null if the IPC writer did not start with exactly <paramref name="schema"/>'s
    /// bytes (then the caller logs a raw IPC stream instead, never a reference to a schema that differs).
    /// </summary>
    public static PooledPayload? EncodeBodyPooled(RecordBatch batch, WalSchema schema, int capacity)
    {
        var buffer = new PooledBufferWriter(capacity);
        try
        {
            bool matched;
            using (var stream = new PooledBufferStream(buffer, schema.Bytes))
            {
                using (var writer = new ArrowStreamWriter(stream, batch.Schema, leaveOpen: true))
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

    /// <summary>
    /// Compresses a body small enough to be worth it (see the remarks of the class) into a pooled buffer; null when it
    /// is too large or does not shrink by an eighth (then the body is logged as it is).
    /// </summary>
    public static PooledPayload? TryCompressPooled(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxCompressedRawBytes || body.Length < 256) return null;
        var buffer = new PooledBufferWriter(BrotliEncoder.GetMaxCompressedLength(body.Length));
        try
        {
            var target = buffer.GetSpan(BrotliEncoder.GetMaxCompressedLength(body.Length));
            if (BrotliEncoder.TryCompress(body, target, out var written, BrotliQuality, BrotliWindow) && written <= body.Length - body.Length / 8)
            {
                buffer.Advance(written);
                return new PooledPayload(buffer);
            }
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
    public static int HeaderLength(bool inline, bool compressed) => (inline ? InlineHeaderBytes : ReferenceHeaderBytes) + (compressed ? 4 : 0);

    /// <summary>Writes the form header; <paramref name="rawBodyLength"/> is the uncompressed body length of a compressed body, else 0.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, WalSchema schema, bool inline, int rawBodyLength)
    {
        var compressed = rawBodyLength > 0;
        var length = HeaderLength(inline, compressed);
        var span = output.GetSpan(length);
        span[0] = Marker;
        span[1] = inline ? InlineForm : ReferenceForm;
        span[2] = compressed ? CompressedFlag : (byte)0;
        span[3] = Marker;
        BinaryPrimitives.WriteUInt128LittleEndian(span[4..], schema.Id);
        var at = ReferenceHeaderBytes;
        if (inline)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], schema.Bytes.Length);
            at += 4;
        }
        if (compressed) BinaryPrimitives.WriteInt32LittleEndian(span[at..], rawBodyLength);
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
        if (span.Length < WalInsertForms.ReferenceHeaderBytes || (span[2] & ~WalInsertForms.CompressedFlag) != 0
            || span[1] is not (WalInsertForms.InlineForm or WalInsertForms.ReferenceForm))
            throw Damaged(segment, position, $"unknown insert payload form (form {span[1]}, flags {span[2]}, {span.Length} bytes)");
        var inline = span[1] == WalInsertForms.InlineForm;
        var compressed = (span[2] & WalInsertForms.CompressedFlag) != 0;
        var header = WalInsertForms.HeaderLength(inline, compressed);
        if (span.Length < header) throw Damaged(segment, position, "insert payload ends inside its form header");
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
    private static byte[] Allocate(int length, out byte[]? pinnedBlock)
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
