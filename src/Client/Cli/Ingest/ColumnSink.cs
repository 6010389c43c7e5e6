using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Client.Sdk;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>
/// Builds one column of an outgoing batch in the target table's Arrow type, converting what a file holds: text
/// (CSV), JSON values (JSON lines) or Arrow values (Parquet). A value that does not convert throws
/// <see cref="FormatException"/> saying why; the caller adds the file, row and column.
/// </summary>
public abstract class ColumnSink(Field field)
{
    /// <summary>The target column.</summary>
    public Field Field { get; } = field;

    /// <summary>Appends NULL (an error for a NOT NULL column).</summary>
    public void AppendNull()
    {
        if (!Field.IsNullable) throw new FormatException("the column is NOT NULL but the value is missing");
        AppendNullValue();
    }

    /// <summary>Appends a CSV field; an empty field is NULL.</summary>
    public void AppendText(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) AppendNull();
        else AppendNonEmptyText(text);
    }

    /// <summary>Appends a JSON value (<c>null</c> is NULL; strings are read as text).</summary>
    public virtual void AppendJson(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined: AppendNull(); break;
            case JsonValueKind.String: AppendText(value.GetString()); break;
            default: AppendText(value.GetRawText()); break;
        }
    }

    /// <summary>Appends the value at <paramref name="index"/> of an Arrow array (read as text unless a sink knows better).</summary>
    public virtual void AppendArrow(IArrowArray array, int index)
    {
        if (array.IsNull(index)) AppendNull();
        else AppendText(ArrowText.Format(array, index));
    }

    /// <summary>Appends NULL.</summary>
    protected abstract void AppendNullValue();

    /// <summary>Appends a non-empty text value.</summary>
    protected abstract void AppendNonEmptyText(ReadOnlySpan<char> text);

    /// <summary>The column built so far; the sink starts empty again.</summary>
    public abstract IArrowArray Build();

    /// <summary>The sink for <paramref name="field"/>'s type.</summary>
    public static ColumnSink For(Field field) => field.DataType switch
    {
        StringType => new StringSink(field),
        BooleanType => new BooleanSink(field),
        Int32Type => new Int32Sink(field),
        Int64Type => new Int64Sink(field),
        DoubleType => new DoubleSink(field),
        TimestampType => new TimestampSink(field),
        Date32Type => new DateSink(field),
        ListType { ValueDataType: StringType } => new StringListSink(field),
        BinaryType => new BinarySink(field),
        var t => throw new NotSupportedException($"column '{field.Name}' has type {t.Name}, which ingest does not convert to"),
    };

    /// <summary>"cannot read 'x' as type": the message for a value that does not convert.</summary>
    protected FormatException Unreadable(ReadOnlySpan<char> text, string type)
    {
        var shown = text.Length > 40 ? text[..40].ToString() + "…" : text.ToString();
        return new FormatException($"cannot read '{shown}' as {type}");
    }
}
