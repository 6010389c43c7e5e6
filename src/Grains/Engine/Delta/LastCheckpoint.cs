using System.Buffers;
using System.Text.Json;

namespace TimeFusion.Delta;

/// <summary>
/// The <c>_delta_log/_last_checkpoint</c> pointer: <c>{"version":v,"size":n,"sizeInBytes":b,"numOfAddFiles":a}</c>.
/// Only a hint: readers list the log anyway, because writers may fail between writing a checkpoint and this file.
/// </summary>
/// <param name="Version">The checkpointed table version.</param>
/// <param name="Size">Number of actions in the checkpoint (some writers put a byte count here: never validated).</param>
/// <param name="Parts">Number of parts of a multi-part checkpoint, if any.</param>
/// <param name="SizeInBytes">Byte size of the checkpoint, if recorded (<c>sizeInBytes</c>, or old delta-rs <c>size_in_bytes</c>).</param>
/// <param name="NumOfAddFiles">Number of <c>add</c> actions in the checkpoint, if recorded.</param>
public sealed record LastCheckpoint(long Version, long? Size, int? Parts, long? SizeInBytes, long? NumOfAddFiles)
{
    /// <summary>Parses the file leniently: a malformed pointer yields null (it is only a hint), never an exception.</summary>
    public static LastCheckpoint? TryParse(ReadOnlySpan<byte> content)
    {
        try
        {
            var reader = new Utf8JsonReader(content);
            using var doc = JsonDocument.ParseValue(ref reader);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object || !TryLong(r, "version", out var version) || version is not { } v || v < 0) return null;
            TryLong(r, "size", out var size);
            TryLong(r, "parts", out var parts);
            if (!TryLong(r, "sizeInBytes", out var bytes) || bytes is null) TryLong(r, "size_in_bytes", out bytes);
            TryLong(r, "numOfAddFiles", out var adds);
            return new LastCheckpoint(v, size, parts is > 0 and <= int.MaxValue ? (int)parts.Value : null, bytes, adds);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Serializes the pointer (protocol field names).</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, DeltaJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteNumber("version", Version);
            if (Size is { } s) w.WriteNumber("size", s);
            if (Parts is { } p) w.WriteNumber("parts", p);
            if (SizeInBytes is { } b) w.WriteNumber("sizeInBytes", b);
            if (NumOfAddFiles is { } a) w.WriteNumber("numOfAddFiles", a);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static bool TryLong(JsonElement e, string name, out long? value)
    {
        value = null;
        if (!e.TryGetProperty(name, out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetInt64(out var v)) return false;
        value = v;
        return true;
    }
}
