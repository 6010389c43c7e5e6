using System.Buffers;
using MessagePack;

namespace TimeFusion.Wal;

/// <summary>
/// The MessagePack envelope of an entry, version 1: an array
/// <c>[formatVersion, lsn, operation, project, table, payload(bin)]</c>. Written and read with the low-level
/// MessagePack writer/reader so that every field of hostile input is type-checked before use.
/// </summary>
internal static class WalEnvelope
{
    /// <summary>The format version this build writes and the only one it reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Fields in a version-1 envelope.</summary>
    public const int FieldCount = 6;

    /// <summary>MessagePack fixarray header for <see cref="FieldCount"/> elements.</summary>
    public const byte ArrayHeaderByte = 0x90 | FieldCount;

    /// <summary>The project and table names, MessagePack-encoded once per log and copied into every envelope.</summary>
    public static byte[] EncodeNames(string project, string table)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.Write(project);
        writer.Write(table);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes everything of the envelope before the payload bytes (which the caller writes or gathers).</summary>
    public static void WritePrefix(IBufferWriter<byte> output, long lsn, WalOperation operation, ReadOnlySpan<byte> encodedNames, int payloadLength)
    {
        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(FieldCount);
        writer.Write(CurrentVersion);
        writer.Write(lsn);
        writer.Write((byte)operation);
        writer.WriteRaw(encodedNames);
        writer.WriteBinHeader(payloadLength);
        writer.Flush();
    }

    /// <summary>Decodes and checks an envelope; the memories returned are slices of <paramref name="envelope"/>.</summary>
    /// <exception cref="WalFormatException">Wrong types, missing or extra fields, an unknown version or operation.</exception>
    public static WalEnvelopeHeader Decode(ReadOnlyMemory<byte> envelope)
    {
        try
        {
            var reader = new MessagePackReader(envelope);
            Expect(ref reader, MessagePackType.Array, "envelope");
            var count = reader.ReadArrayHeader();
            if (count < 1) throw new WalFormatException("WAL envelope is an empty array");
            Expect(ref reader, MessagePackType.Integer, "format version");
            var version = reader.ReadInt64();
            if (version != CurrentVersion)
                throw new WalFormatException($"unsupported WAL format version {version} (this build reads version {CurrentVersion})");
            if (count != FieldCount)
                throw new WalFormatException($"WAL envelope version {version} has {count} fields, expected {FieldCount}");
            Expect(ref reader, MessagePackType.Integer, "lsn");
            var lsn = reader.ReadInt64();
            if (lsn < 1) throw new WalFormatException($"WAL envelope has LSN {lsn}; LSNs start at 1");
            Expect(ref reader, MessagePackType.Integer, "operation");
            var op = reader.ReadInt64();
            if (op is < (long)WalOperation.Insert or > (long)WalOperation.Transaction)
                throw new WalFormatException($"WAL envelope has unknown operation {op}");
            var project = ReadSlice(ref reader, envelope, MessagePackType.String, "project");
            var table = ReadSlice(ref reader, envelope, MessagePackType.String, "table");
            if (project.Length == 0 || table.Length == 0) throw new WalFormatException("WAL envelope has an empty project or table name");
            var payload = ReadSlice(ref reader, envelope, MessagePackType.Binary, "payload");
            if (!reader.End) throw new WalFormatException("WAL envelope has bytes after its last field");
            return new WalEnvelopeHeader((int)version, lsn, (WalOperation)op, project, table, payload);
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentException)
        {
            throw new WalFormatException($"malformed WAL envelope: {e.Message}", e);
        }
    }

    private static void Expect(ref MessagePackReader reader, MessagePackType type, string field)
    {
        if (reader.End) throw new WalFormatException($"WAL envelope ends before field '{field}'");
        var actual = reader.NextMessagePackType;
        if (actual != type) throw new WalFormatException($"WAL envelope field '{field}' is {actual}, expected {type}");
    }

    private static ReadOnlyMemory<byte> ReadSlice(ref MessagePackReader reader, ReadOnlyMemory<byte> envelope, MessagePackType type, string field)
    {
        Expect(ref reader, type, field);
        var sequence = type == MessagePackType.String ? reader.ReadStringSequence() : reader.ReadBytes();
        var length = sequence!.Value.Length;
        var end = reader.Consumed;
        return envelope.Slice(checked((int)(end - length)), (int)length);
    }
}

/// <summary>A decoded envelope; the memories are slices of the envelope bytes.</summary>
internal readonly record struct WalEnvelopeHeader(
    int Version, long Lsn, WalOperation Operation, ReadOnlyMemory<byte> ProjectUtf8, ReadOnlyMemory<byte> TableUtf8, ReadOnlyMemory<byte> Payload);
