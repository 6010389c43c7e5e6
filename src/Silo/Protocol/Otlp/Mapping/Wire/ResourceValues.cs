using System.Buffers;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;

/// <summary>
/// A resource's flattened columns (<c>resource___service___name</c>, …), worked out once per resource from its
/// attributes and then set on each of its rows: the first value per column wins, as when a row is filled attribute by
/// attribute.
/// </summary>
internal sealed class ResourceValues : IFlatTarget
{
    private readonly List<(int Column, byte Kind, int Start, int Length, long Number)> _sets = [];
    private readonly ArrayBufferWriter<byte> _text = new(256);

    /// <summary>Forgets the previous resource's columns.</summary>
    public void Clear()
    {
        _sets.Clear();
        _text.ResetWrittenCount();
    }

    /// <inheritdoc />
    public void Utf8(int column, ReadOnlySpan<byte> value)
    {
        if (Has(column)) return;
        var start = _text.WrittenCount;
        _text.Write(value);
        _sets.Add((column, 0, start, value.Length, 0));
    }

    /// <inheritdoc />
    public void Int32(int column, int value)
    {
        if (!Has(column)) _sets.Add((column, 1, 0, 0, value));
    }

    /// <inheritdoc />
    public void Int64(int column, long value)
    {
        if (!Has(column)) _sets.Add((column, 2, 0, 0, value));
    }

    /// <summary>Sets the columns on the current row.</summary>
    public void ApplyTo(ColumnarRows rows)
    {
        var text = _text.WrittenSpan;
        foreach (var (column, kind, start, length, number) in _sets)
        {
            switch (kind)
            {
                case 0: rows.Utf8(column, text.Slice(start, length)); break;
                case 1: rows.Int32(column, (int)number); break;
                default: rows.Int64(column, number); break;
            }
        }
    }

    private bool Has(int column)
    {
        foreach (var set in _sets)
            if (set.Column == column) return true;
        return false;
    }
}
