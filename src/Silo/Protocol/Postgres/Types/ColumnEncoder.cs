using Apache.Arrow;
using TimeFusion.Silo.Protocol.Postgres.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>
/// Writes one Arrow column's values as PostgreSQL field values (length-prefixed, text or binary format).
/// Bound to one array (batch) at a time; no allocation per value.
/// </summary>
internal abstract class ColumnEncoder
{
    private IArrowArray? _array;

    protected ColumnEncoder(PgType type, bool binary)
    {
        Type = type;
        Binary = binary;
    }

    /// <summary>The PostgreSQL type the values are sent as.</summary>
    public PgType Type { get; }

    /// <summary>Whether values are written in binary format.</summary>
    public bool Binary { get; }

    /// <summary>Binds the encoder to the column's array of the current batch.</summary>
    public void Bind(IArrowArray array)
    {
        if (array is ExtensionArray ext)
        {
            array = ext.Storage;
        }
        _array = array;
        BindTyped(array);
    }

    protected abstract void BindTyped(IArrowArray array);

    public virtual bool IsNull(int row) => _array!.IsNull(row);

    /// <summary>Writes the value's text form (no length prefix).</summary>
    public abstract void WriteText(PgOutputBuffer buffer, int row);

    /// <summary>Writes the value's binary form (no length prefix).</summary>
    public abstract void WriteBinary(PgOutputBuffer buffer, int row);

    /// <summary>Writes the field: -1 for NULL, otherwise the length and the value in this encoder's format.</summary>
    public void Write(PgOutputBuffer buffer, int row)
    {
        if (IsNull(row))
        {
            buffer.WriteInt32(-1);
            return;
        }
        var position = buffer.ReserveInt32();
        if (Binary)
        {
            WriteBinary(buffer, row);
        }
        else
        {
            WriteText(buffer, row);
        }
        buffer.PatchLength(position);
    }
}
