using System.Buffers.Binary;
using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Ingest;

namespace TimeFusion.Wal;

/// <summary>
/// Which columns a projected insert body carries: every column except the all-null ones whose type
/// <see cref="NullColumns"/> can rebuild. Written in the entry's form header as <c>[column count u16][bitmap]</c>, bit
/// <c>i</c> (byte <c>i/8</c>, bit <c>i%8</c>) set when column <c>i</c> is present; the bits past the count are zero.
/// </summary>
/// <remarks>
/// A 30-row INSERT into the ~90-column otel table leaves ~75 columns null. Carrying them costs a FieldNode, two or three
/// Buffer entries and padded buffers each in the IPC record batch (more bytes than the rows' data); the mask costs 14 bytes.
/// </remarks>
internal sealed class WalColumnMask : IEquatable<WalColumnMask>
{
    /// <summary>The most columns a mask describes (its count is a u16).</summary>
    public const int MaxColumns = ushort.MaxValue;

    private readonly byte[] _bits;

    private WalColumnMask(byte[] bits, int columnCount)
    {
        _bits = bits;
        ColumnCount = columnCount;
        var present = 0;
        foreach (var b in bits) present += BitOperations.PopCount(b);
        PresentCount = present;
    }

    /// <summary>Columns of the full schema.</summary>
    public int ColumnCount { get; }

    /// <summary>Columns the body carries.</summary>
    public int PresentCount { get; }

    /// <summary>Bytes of the mask in the form header.</summary>
    public int EncodedLength => 2 + _bits.Length;

    public bool IsPresent(int column) => (_bits[column >> 3] & (1 << (column & 7))) != 0;

    /// <summary>
    /// The mask leaving out <paramref name="batch"/>'s all-null nullable columns of types <see cref="NullColumns"/> rebuilds; null
    /// when it would leave out nothing (or the batch has no rows or more than <see cref="MaxColumns"/> columns).
    /// </summary>
    public static WalColumnMask? Of(RecordBatch batch)
    {
        var count = batch.ColumnCount;
        if (batch.Length == 0 || count > MaxColumns) return null;
        var bits = new byte[(count + 7) / 8];
        var absent = false;
        for (var i = 0; i < count; i++)
        {
            var column = batch.Column(i);
            if (column.NullCount == column.Length && batch.Schema.GetFieldByIndex(i).IsNullable && NullColumns.Supports(column.Data.DataType)) absent = true;
            else bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        return absent ? new WalColumnMask(bits, count) : null;
    }

    /// <summary>Writes <c>[count u16][bitmap]</c> (<see cref="EncodedLength"/> bytes).</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)ColumnCount);
        _bits.CopyTo(destination[2..]);
    }

    /// <summary>Reads a mask written by <see cref="Write"/>; <paramref name="length"/> is its bytes.</summary>
    /// <exception cref="WalFormatException">Cut short, or bits set past its count.</exception>
    public static WalColumnMask Read(ReadOnlySpan<byte> source, out int length)
    {
        if (source.Length < 2) throw new WalFormatException("insert column mask is cut short");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(source);
        length = 2 + (count + 7) / 8;
        if (source.Length < length) throw new WalFormatException($"insert column mask of {count} columns is cut short");
        var bits = source[2..length].ToArray();
        if (count % 8 != 0 && bits[^1] >> (count % 8) != 0) throw new WalFormatException($"insert column mask has bits set past its {count} columns");
        return new WalColumnMask(bits, count);
    }

    /// <summary>The fields of <paramref name="schema"/> this mask keeps, as a schema of their own (its metadata kept).</summary>
    /// <exception cref="WalFormatException">The mask does not fit the schema, or leaves out a column nulls cannot be rebuilt for.</exception>
    public Schema Project(Schema schema)
    {
        var fields = schema.FieldsList;
        if (fields.Count != ColumnCount)
            throw new WalFormatException($"insert column mask describes {ColumnCount} columns, its schema has {fields.Count}");
        var kept = new List<Field>(PresentCount);
        for (var i = 0; i < fields.Count; i++)
        {
            if (IsPresent(i)) kept.Add(fields[i]);
            else if (fields[i].IsNullable is false || !NullColumns.Supports(fields[i].DataType))
                throw new WalFormatException($"insert column mask leaves out column '{fields[i].Name}', which cannot be rebuilt as nulls");
        }
        return new Schema(kept, schema.Metadata);
    }

    /// <summary>
    /// The columns of <paramref name="batch"/> this mask keeps, under <paramref name="projected"/> (from
    /// <see cref="Project(Schema)"/>), their buffers cut to what the rows use (<see cref="WalBufferTrim"/>).
    /// </summary>
    /// <remarks>The arrays share the batch's memory: do not dispose the result.</remarks>
    public RecordBatch ProjectBatch(RecordBatch batch, Schema projected)
    {
        var arrays = new IArrowArray[PresentCount];
        for (int i = 0, j = 0; i < ColumnCount; i++)
        {
            if (IsPresent(i)) arrays[j++] = WalBufferTrim.Trim(batch.Column(i));
        }
        return new RecordBatch(projected, arrays, batch.Length);
    }

    /// <summary>
    /// The full-width batch under <paramref name="schema"/>: <paramref name="projected"/>'s columns where the mask has
    /// them (checked by name and type id), shared all-null columns elsewhere.
    /// </summary>
    /// <exception cref="WalFormatException">The projected batch does not have the mask's columns.</exception>
    public RecordBatch Widen(RecordBatch projected, Schema schema)
    {
        var fields = schema.FieldsList;
        if (fields.Count != ColumnCount || projected.ColumnCount != PresentCount)
            throw new WalFormatException($"projected insert has {projected.ColumnCount} of {fields.Count} columns, its mask {PresentCount} of {ColumnCount}");
        var arrays = new IArrowArray[ColumnCount];
        var rows = projected.Length;
        for (int i = 0, j = 0; i < ColumnCount; i++)
        {
            if (!IsPresent(i))
            {
                arrays[i] = NullColumns.Of(fields[i].DataType, rows);
                continue;
            }
            var field = projected.Schema.FieldsList[j];
            if (field.Name != fields[i].Name || field.DataType.TypeId != fields[i].DataType.TypeId)
                throw new WalFormatException($"projected insert column {j} is '{field.Name}' ({field.DataType.Name}), its schema has '{fields[i].Name}' ({fields[i].DataType.Name})");
            arrays[i] = projected.Column(j++);
        }
        return new RecordBatch(schema, arrays, rows);
    }

    public bool Equals(WalColumnMask? other) => other is not null && other.ColumnCount == ColumnCount && other._bits.AsSpan().SequenceEqual(_bits);

    public override bool Equals(object? obj) => Equals(obj as WalColumnMask);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(ColumnCount);
        hash.AddBytes(_bits);
        return hash.ToHashCode();
    }

    /// <summary>Whether <paramref name="type"/> or a type nested in it is dictionary-encoded.</summary>
    internal static bool HasDictionary(IArrowType type) =>
        type is DictionaryType || (type is NestedType nested && nested.Fields.Any(f => HasDictionary(f.DataType)));
}
