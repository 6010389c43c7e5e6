using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Wire;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>Text and JSON columns: any text; a JSON object or array value is kept as its JSON text.</summary>
public sealed class StringSink(Field field) : ColumnSink(field)
{
    private readonly StringArray.Builder _builder = new();

    /// <inheritdoc />
    public override void AppendArrow(IArrowArray array, int index)
    {
        if (array is StringArray s && !s.IsNull(index)) _builder.Append(s.GetString(index));
        else base.AppendArrow(array, index);
    }

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text) => _builder.Append(text.ToString());

    /// <inheritdoc />
    public override IArrowArray Build()
    {
        var array = ManagedArrowMemory.Build(_builder);
        _builder.Clear();
        return array;
    }
}

/// <summary>Boolean: true/false, t/f, 1/0, yes/no.</summary>
public sealed class BooleanSink(Field field) : ColumnSink(field)
{
    private readonly BooleanArray.Builder _builder = new();

    /// <inheritdoc />
    public override void AppendJson(JsonElement value)
    {
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) _builder.Append(value.GetBoolean());
        else base.AppendJson(value);
    }

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text)
    {
        var t = text.Trim();
        if (t.Equals("true", StringComparison.OrdinalIgnoreCase) || t is "t" or "T" or "1" || t.Equals("yes", StringComparison.OrdinalIgnoreCase)) _builder.Append(true);
        else if (t.Equals("false", StringComparison.OrdinalIgnoreCase) || t is "f" or "F" or "0" || t.Equals("no", StringComparison.OrdinalIgnoreCase)) _builder.Append(false);
        else throw Unreadable(text, "boolean");
    }

    /// <inheritdoc />
    public override IArrowArray Build()
    {
        var array = ManagedArrowMemory.Build(_builder);
        _builder.Clear();
        return array;
    }
}

/// <summary>32-bit integers.</summary>
public sealed class Int32Sink(Field field) : ColumnSink(field)
{
    private readonly Int32Array.Builder _builder = new();

    /// <inheritdoc />
    public override void AppendArrow(IArrowArray array, int index)
    {
        if (array is Int32Array a && !a.IsNull(index)) _builder.Append(a.GetValue(index)!.Value);
        else base.AppendArrow(array, index);
    }

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text) =>
        _builder.Append(int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw Unreadable(text, "integer"));

    /// <inheritdoc />
    public override IArrowArray Build()
    {
        var array = ManagedArrowMemory.Build(_builder);
        _builder.Clear();
        return array;
    }
}

/// <summary>64-bit integers.</summary>
public sealed class Int64Sink(Field field) : ColumnSink(field)
{
    private readonly Int64Array.Builder _builder = new();

    /// <inheritdoc />
    public override void AppendArrow(IArrowArray array, int index)
    {
        if (array.IsNull(index)) AppendNull();
        else if (array is Int64Array a) _builder.Append(a.GetValue(index)!.Value);
        else if (array is Int32Array b) _builder.Append(b.GetValue(index)!.Value);
        else base.AppendArrow(array, index);
    }

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text) =>
        _builder.Append(long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw Unreadable(text, "bigint"));

    /// <inheritdoc />
    public override IArrowArray Build()
    {
        var array = ManagedArrowMemory.Build(_builder);
        _builder.Clear();
        return array;
    }
}

/// <summary>Doubles.</summary>
public sealed class DoubleSink(Field field) : ColumnSink(field)
{
    private readonly DoubleArray.Builder _builder = new();

    /// <inheritdoc />
    public override void AppendArrow(IArrowArray array, int index)
    {
        if (array is DoubleArray a && !a.IsNull(index)) _builder.Append(a.GetValue(index)!.Value);
        else base.AppendArrow(array, index);
    }

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text) =>
        _builder.Append(double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw Unreadable(text, "double precision"));

    /// <inheritdoc />
    public override IArrowArray Build()
    {
        var array = ManagedArrowMemory.Build(_builder);
        _builder.Clear();
        return array;
    }
}

/// <summary>Timestamps (microseconds, UTC): ISO 8601 text (without an offset: UTC), or Arrow timestamps of any unit.</summary>
public sealed class TimestampSink(Field field) : ColumnSink(field)
{
    private const long UnixEpochTicks = 621355968000000000L;
    private readonly TimestampArray.Builder _builder = new((TimestampType)field.DataType);

    /// <inheritdoc />
    public override void AppendArrow(IArrowArray array, int index)
    {
        if (array is TimestampArray a && !a.IsNull(index)) _builder.Append(a.GetTimestamp(index)!.Value);
        else base.AppendArrow(array, index);
    }

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text)
    {
        if (!DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            || t.UtcTicks < UnixEpochTicks)
            throw Unreadable(text, "timestamp");
        _builder.Append(t);
    }

    /// <inheritdoc />
    public override IArrowArray Build()
    {
        var array = ManagedArrowMemory.Build(_builder);
        _builder.Clear();
        return array;
    }
}

/// <summary>Dates (<c>yyyy-MM-dd</c>).</summary>
public sealed class DateSink(Field field) : ColumnSink(field)
{
    private readonly Date32Array.Builder _builder = new();

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text) =>
        _builder.Append(DateOnly.TryParse(text.Trim(), CultureInfo.InvariantCulture, out var d) ? d : throw Unreadable(text, "date"));

    /// <inheritdoc />
    public override IArrowArray Build()
    {
        var array = ManagedArrowMemory.Build(_builder);
        _builder.Clear();
        return array;
    }
}

/// <summary>Raw bytes: hex as PostgreSQL writes it (<c>\x0a1b…</c>), or base64.</summary>
public sealed class BinarySink(Field field) : ColumnSink(field)
{
    private readonly BinaryArray.Builder _builder = new();

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text)
    {
        try
        {
            _builder.Append(text.StartsWith("\\x") ? Convert.FromHexString(text[2..]) : Convert.FromBase64String(text.ToString()));
        }
        catch (FormatException)
        {
            throw Unreadable(text, "bytea");
        }
    }

    /// <inheritdoc />
    public override IArrowArray Build()
    {
        var array = ManagedArrowMemory.Build(_builder);
        _builder.Clear();
        return array;
    }
}
