using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// Accumulates one column of COPY input into Arrow buffers: values arrive as text-format or binary-format
/// field bytes and are converted by the column's Arrow type. Conversion errors are PostgreSQL errors
/// (22P02, 22P03, 22003, 23502) for the caller to put in context.
/// </summary>
internal abstract class CopyColumnBuilder
{
    // Made at the first NULL: a column without NULLs (most of them) never writes a validity bit.
    private ArrowBuffer.BitmapBuilder? _validity;
    private int _nullCount;

    protected CopyColumnBuilder(Field field, IArrowType storageType)
    {
        Field = field;
        StorageType = storageType;
    }

    public Field Field { get; }

    /// <summary>The physical Arrow type values are built in (the extension's storage type for extension fields).</summary>
    public IArrowType StorageType { get; }

    public int Length { get; private set; }

    /// <summary>Value bytes held so far (variable-width columns; 0 for the others).</summary>
    public virtual int ByteCount => 0;

    /// <summary>Sizes the empty builder for <paramref name="rows"/> values of <paramref name="bytes"/> value bytes in all.</summary>
    public virtual void Reserve(int rows, int bytes)
    {
    }

    /// <summary>Whether the column is the NOT NULL kind that rejects NULLs.</summary>
    public bool RejectsNull => !Field.IsNullable;

    public void AppendNull()
    {
        if (!Field.IsNullable)
        {
            throw new PostgresErrorException(SqlState.NotNullViolation, $"null value in column \"{Field.Name}\" violates not-null constraint");
        }
        AppendNullValue();
        if (_validity is null)
        {
            _validity = new ArrowBuffer.BitmapBuilder(Math.Max(8, Length + 1));
            _validity.AppendRange(true, Length);
        }
        _validity.Append(false);
        _nullCount++;
        Length++;
    }

    public void AppendText(ReadOnlySpan<byte> text) => AppendText(text, validUtf8: false);

    /// <summary>Appends a text-format value; <paramref name="validUtf8"/> says the caller already validated its encoding.</summary>
    public void AppendText(ReadOnlySpan<byte> text, bool validUtf8)
    {
        AppendTextValue(text, validUtf8);
        _validity?.Append(true);
        Length++;
    }

    public void AppendBinary(ReadOnlySpan<byte> value)
    {
        AppendBinaryValue(value);
        _validity?.Append(true);
        Length++;
    }

    protected abstract void AppendNullValue();

    protected abstract void AppendTextValue(ReadOnlySpan<byte> text);

    /// <summary>Text columns skip their UTF-8 check when the caller validated the input already; others ignore the flag.</summary>
    protected virtual void AppendTextValue(ReadOnlySpan<byte> text, bool validUtf8) => AppendTextValue(text);

    protected abstract void AppendBinaryValue(ReadOnlySpan<byte> value);

    /// <summary>The value buffers and children of the array built so far (the builder then starts empty).</summary>
    protected abstract (ArrowBuffer[] Buffers, ArrayData[] Children) BuildBuffers();

    /// <summary>Builds the array of everything appended and starts over.</summary>
    public IArrowArray Build()
    {
        var data = BuildData();
        var storage = ArrowArrayFactory.BuildArray(data);
        return Field.DataType is ExtensionType ext ? ext.CreateArray(storage) : storage;
    }

    /// <summary>Builds the storage <see cref="ArrayData"/> (used directly for list children).</summary>
    public ArrayData BuildData()
    {
        var validity = _validity is null ? ArrowBuffer.Empty : ManagedArrowMemory.Build(_validity);
        var (buffers, children) = BuildBuffers();
        var all = new ArrowBuffer[buffers.Length + 1];
        all[0] = validity;
        buffers.CopyTo(all, 1);
        var data = new ArrayData(StorageType, Length, _nullCount, 0, all, children);
        _validity = null;
        _nullCount = 0;
        Length = 0;
        return data;
    }

    protected static PostgresErrorException BadText(string typeName, ReadOnlySpan<byte> text)
    {
        var shown = System.Text.Encoding.UTF8.GetString(text[..Math.Min(text.Length, 100)]);
        return new PostgresErrorException(SqlState.InvalidTextRepresentation, $"invalid input syntax for type {typeName}: \"{shown}\"");
    }

    protected static PostgresErrorException BadBinary(string typeName, int length) =>
        new(SqlState.InvalidBinaryRepresentation, $"incorrect binary data format for type {typeName} ({length} bytes)");

    protected static PostgresErrorException OutOfRange(string typeName) =>
        new(SqlState.NumericValueOutOfRange, $"value out of range for type {typeName}");
}
