using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Tables;

namespace TimeFusion.Buffer.Native;

/// <summary>
/// The gate in front of DuckDB's Arrow conversion, which trusts every length, offset and index it is
/// handed. A batch passes only if each column has a type the table column accepts and every buffer is
/// large enough for what its offsets, views and dictionary indices point at; optionally strings must be
/// valid UTF-8. Anything else is a <see cref="SchemaException"/> naming the column — never a read out of bounds.
/// </summary>
internal static class ArrowBatchValidator
{
    /// <summary>Checks <paramref name="batch"/> against <paramref name="schema"/> (same columns, same order).</summary>
    /// <exception cref="SchemaException">A missing, extra, misnamed or mistyped column, or a malformed array.</exception>
    public static void Validate(RecordBatch batch, TableSchema schema, bool validateUtf8)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var columns = schema.Columns;
        if (batch.ColumnCount != columns.Count)
            throw new SchemaException($"table '{schema.Name}': batch has {batch.ColumnCount} columns, the table has {columns.Count}");
        if (batch.Length < 0)
            throw new SchemaException($"table '{schema.Name}': batch has a negative length");
        for (var i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            var field = batch.Schema.FieldsList[i];
            if (!string.Equals(field.Name, column.Name, StringComparison.Ordinal))
                throw new SchemaException($"table '{schema.Name}': batch column {i} is '{field.Name}', expected '{column.Name}'");
            var data = batch.Column(i).Data;
            if (!ArrowTypeAcceptance.Accepts(column.Type, data.DataType))
                throw new SchemaException($"table '{schema.Name}': column '{column.Name}' has Arrow type {Describe(data.DataType)}, which does not fit {column.Type}");
            if (data.Length != batch.Length)
                throw new SchemaException($"table '{schema.Name}': column '{column.Name}' has {data.Length} rows, the batch has {batch.Length}");
            if (!column.Nullable && data.NullCount != 0)
                throw new SchemaException($"table '{schema.Name}': column '{column.Name}' is NOT NULL but the batch holds {data.NullCount} null(s)");
            try
            {
                CheckArray(data, validateUtf8);
            }
            catch (MalformedArrayException e)
            {
                throw new SchemaException($"table '{schema.Name}': column '{column.Name}': {e.Message}");
            }
        }
    }

    /// <summary>A readable Arrow type name for error messages.</summary>
    public static string Describe(IArrowType type) => type switch
    {
        TimestampType t => $"timestamp[{t.Unit}, {t.Timezone ?? "no time zone"}]",
        DictionaryType d => $"dictionary<{Describe(d.IndexType)}, {Describe(d.ValueType)}>",
        ListType l => $"list<{Describe(l.ValueDataType)}>",
        _ => type.Name,
    };

    private sealed class MalformedArrayException(string message) : Exception(message);

    private static void CheckArray(ArrayData data, bool utf8)
    {
        if (data.Offset < 0 || data.Length < 0)
            throw new MalformedArrayException("negative offset or length");
        var end = (long)data.Offset + data.Length;
        CheckValidity(data, end);
        switch (data.DataType)
        {
            case BooleanType:
                Need(data, 1, (end + 7) / 8, "values");
                break;
            case Int32Type or Date32Type:
                Need(data, 1, end * 4, "values");
                break;
            case Int64Type or TimestampType or DoubleType:
                Need(data, 1, end * 8, "values");
                break;
            case StringType:
                CheckVarBinary(data, 4, utf8);
                break;
            case BinaryType:
                CheckVarBinary(data, 4, utf8: false);
                break;
            case LargeStringType:
                CheckVarBinary(data, 8, utf8);
                break;
            case StringViewType:
                CheckViews(data, utf8);
                break;
            case DictionaryType dict:
                CheckDictionary(data, dict, utf8);
                break;
            case ListType:
                CheckList(data, utf8);
                break;
            default:
                throw new MalformedArrayException($"unsupported Arrow type {Describe(data.DataType)}");
        }
    }

    private static void CheckValidity(ArrayData data, long end)
    {
        var buffers = data.Buffers;
        if (buffers is null || buffers.Length == 0)
            throw new MalformedArrayException("no buffers");
        if (buffers[0].IsEmpty)
        {
            if (data.NullCount > 0)
                throw new MalformedArrayException("null count is positive but there is no validity bitmap");
            return;
        }
        if (buffers[0].Length < (end + 7) / 8)
            throw new MalformedArrayException($"validity bitmap of {buffers[0].Length} bytes is too short for {end} rows");
    }

    private static void Need(ArrayData data, int index, long bytes, string what)
    {
        if (data.Buffers.Length <= index)
            throw new MalformedArrayException($"missing {what} buffer");
        if (bytes > 0 && data.Buffers[index].Length < bytes)
            throw new MalformedArrayException($"{what} buffer of {data.Buffers[index].Length} bytes, {bytes} needed");
    }

    private static bool IsValid(ArrayData data, int row)
    {
        var bitmap = data.Buffers[0];
        if (bitmap.IsEmpty)
            return true;
        var bit = data.Offset + row;
        return (bitmap.Span[bit >> 3] & (1 << (bit & 7))) != 0;
    }

    /// <summary>Offsets of the rows [Offset, Offset+Length] as longs (first, last) after checking they are monotonic and in range.</summary>
    private static (long First, long Last) CheckOffsets(ArrayData data, int width, long dataLength, string what)
    {
        var count = data.Length + 1L;
        Need(data, 1, (data.Offset + count) * width, "offsets");
        var span = data.Buffers[1].Span;
        long first = 0, previous = 0;
        for (var i = 0; i < count; i++)
        {
            var at = (data.Offset + i) * width;
            long value = width == 4
                ? BinaryPrimitives.ReadInt32LittleEndian(span.Slice((int)at, 4))
                : BinaryPrimitives.ReadInt64LittleEndian(span.Slice((int)at, 8));
            if (i == 0)
            {
                if (value < 0)
                    throw new MalformedArrayException("negative offset");
                first = value;
            }
            else if (value < previous)
            {
                throw new MalformedArrayException("offsets decrease");
            }
            previous = value;
        }
        if (previous > dataLength)
            throw new MalformedArrayException($"offsets point past the end of the {what} ({previous} > {dataLength})");
        return (first, previous);
    }

    private static void CheckVarBinary(ArrayData data, int width, bool utf8)
    {
        if (data.Buffers.Length < 3)
            throw new MalformedArrayException("missing data buffer");
        var bytes = data.Buffers[2].Span;
        var (first, last) = CheckOffsets(data, width, bytes.Length, "data buffer");
        if (!utf8 || last == first)
            return;
        // One pass over the whole value range, then make sure no value starts inside a multi-byte
        // sequence: together that proves each value is valid UTF-8 on its own.
        var range = bytes.Slice((int)first, (int)(last - first));
        if (!Utf8.IsValid(range))
            throw new MalformedArrayException("a string is not valid UTF-8");
        var offsets = data.Buffers[1].Span;
        for (var i = 1; i < data.Length; i++)
        {
            var at = (data.Offset + i) * width;
            long start = width == 4
                ? BinaryPrimitives.ReadInt32LittleEndian(offsets.Slice(at, 4))
                : BinaryPrimitives.ReadInt64LittleEndian(offsets.Slice(at, 8));
            if (start < last && (bytes[(int)start] & 0xC0) == 0x80)
                throw new MalformedArrayException("a string is not valid UTF-8 (it starts inside a character)");
        }
    }

    private static void CheckViews(ArrayData data, bool utf8)
    {
        Need(data, 1, ((long)data.Offset + data.Length) * 16, "views");
        var views = MemoryMarshal.Cast<byte, int>(data.Buffers[1].Span);
        var dataBuffers = data.Buffers.Length - 2;
        for (var i = 0; i < data.Length; i++)
        {
            if (!IsValid(data, i))
                continue;
            var v = (data.Offset + i) * 4;
            var length = views[v];
            if (length < 0)
                throw new MalformedArrayException("negative string view length");
            ReadOnlySpan<byte> value;
            if (length <= 12)
            {
                value = data.Buffers[1].Span.Slice(v * 4 + 4, length);
            }
            else
            {
                var bufferIndex = views[v + 2];
                var offset = views[v + 3];
                if (bufferIndex < 0 || bufferIndex >= dataBuffers)
                    throw new MalformedArrayException($"string view refers to data buffer {bufferIndex} of {dataBuffers}");
                var buffer = data.Buffers[2 + bufferIndex].Span;
                if (offset < 0 || (long)offset + length > buffer.Length)
                    throw new MalformedArrayException("string view points past the end of its data buffer");
                value = buffer.Slice(offset, length);
            }
            if (utf8 && !Utf8.IsValid(value))
                throw new MalformedArrayException("a string is not valid UTF-8");
        }
    }

    private static void CheckDictionary(ArrayData data, DictionaryType type, bool utf8)
    {
        if (data.Dictionary is null)
            throw new MalformedArrayException("dictionary array without a dictionary");
        CheckArray(data.Dictionary, utf8);
        var size = data.Dictionary.Length;
        var width = ((IntegerType)type.IndexType).BitWidth / 8;
        Need(data, 1, ((long)data.Offset + data.Length) * width, "indices");
        var span = data.Buffers[1].Span;
        var signed = ((IntegerType)type.IndexType).IsSigned;
        for (var i = 0; i < data.Length; i++)
        {
            if (!IsValid(data, i))
                continue;
            var at = (data.Offset + i) * width;
            long index = width switch
            {
                1 => signed ? (sbyte)span[at] : span[at],
                2 => signed ? BinaryPrimitives.ReadInt16LittleEndian(span.Slice(at)) : BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(at)),
                4 => signed ? BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at)) : BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(at)),
                _ => BinaryPrimitives.ReadInt64LittleEndian(span.Slice(at)),
            };
            if (index < 0 || index >= size)
                throw new MalformedArrayException($"dictionary index {index} is outside a dictionary of {size} values");
        }
    }

    private static void CheckList(ArrayData data, bool utf8)
    {
        if (data.Children is not { Length: 1 })
            throw new MalformedArrayException("list array without exactly one child");
        var child = data.Children[0];
        var (first, last) = CheckOffsets(data, 4, child.Length, "list values");
        if (last > first)
            CheckArray(child.Slice((int)first, (int)(last - first)), utf8);
        else
            CheckValidity(child, child.Offset);
    }
}
