using System.Buffers.Binary;
using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// COPY binary format: the <c>PGCOPY\n\377\r\n\0</c> signature, flags and header extension, then tuples of
/// (field count, length-prefixed binary values) and a -1 trailer. Values are decoded by the target column's type.
/// </summary>
internal sealed class CopyBinaryParser(string table, Schema schema, TimeZoneInfo zone, int batchRows, long batchBytes, int maxRowBytes)
    : CopyInParser(table, schema, zone, batchRows, batchBytes, maxRowBytes)
{
    private bool _headerDone;

    // Binary values carry their own lengths; text columns check their UTF-8 one value at a time.
    protected override bool ValidatesUtf8Upfront => false;

    protected override int ParseAvailable(ReadOnlySpan<byte> data, bool final)
    {
        var consumed = 0;
        if (!_headerDone)
        {
            if (data.Length < 19)
            {
                if (final)
                {
                    throw BadFormat(data.Length == 0 ? "missing COPY binary header" : "invalid COPY file header (too short)");
                }
                return 0;
            }
            if (!data[..11].SequenceEqual(SignatureBytes))
            {
                throw BadFormat("COPY file signature not recognized");
            }
            var flags = BinaryPrimitives.ReadInt32BigEndian(data[11..]);
            if ((flags & (1 << 16)) != 0)
            {
                throw BadFormat("COPY with OIDs is not supported");
            }
            if ((flags & 0xFFFF0000 & ~(1 << 16)) != 0)
            {
                throw BadFormat("unrecognized critical flags in COPY file header");
            }
            var extension = BinaryPrimitives.ReadInt32BigEndian(data[15..]);
            if (extension < 0)
            {
                throw BadFormat("invalid COPY file header (negative extension length)");
            }
            if (data.Length < 19L + extension)
            {
                if (final)
                {
                    throw BadFormat("invalid COPY file header (missing extension)");
                }
                return 0;
            }
            consumed = 19 + extension;
            _headerDone = true;
        }
        while (!Ended)
        {
            var rest = data[consumed..];
            if (rest.Length < 2)
            {
                if (final && rest.Length > 0)
                {
                    throw BadFormat("unexpected EOF in COPY data");
                }
                break;
            }
            var fieldCount = BinaryPrimitives.ReadInt16BigEndian(rest);
            if (fieldCount == -1)
            {
                Ended = true;
                consumed += 2;
                break;
            }
            if (fieldCount != Columns.Length)
            {
                Line++;
                throw BadFormat($"row field count is {fieldCount}, expected {Columns.Length}");
            }
            // Check the whole tuple is here before converting anything.
            var pos = 2;
            var complete = true;
            var (routeAt, routeLength) = (0, -1);
            for (var i = 0; i < fieldCount; i++)
            {
                if (rest.Length - pos < 4)
                {
                    complete = false;
                    break;
                }
                var length = BinaryPrimitives.ReadInt32BigEndian(rest[pos..]);
                pos += 4;
                if (i == RouteColumn)
                {
                    (routeAt, routeLength) = (pos, length);
                }
                if (length < -1)
                {
                    Line++;
                    throw BadFormat($"invalid field length {length}");
                }
                if (length > 0)
                {
                    if (rest.Length - pos < length)
                    {
                        complete = false;
                        break;
                    }
                    pos += length;
                }
            }
            if (!complete)
            {
                if (final)
                {
                    Line++;
                    throw BadFormat("unexpected EOF in COPY data");
                }
                break;
            }
            Line++;
            if (RouteColumn >= 0)
            {
                RouteRow(routeLength < 0 ? default : rest.Slice(routeAt, routeLength), isNull: routeLength < 0);
            }
            pos = 2;
            for (var i = 0; i < fieldCount; i++)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(rest[pos..]);
                pos += 4;
                if (length < 0)
                {
                    AppendNull(i);
                    continue;
                }
                AppendBinary(i, rest.Slice(pos, length));
                pos += length;
            }
            consumed += pos;
            EndRow(pos);
        }
        return consumed;
    }

    private static ReadOnlySpan<byte> SignatureBytes => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];
}
