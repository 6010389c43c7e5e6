using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Wire;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>
/// <c>text[]</c> columns: a JSON array of strings (JSON lines, or CSV text starting with <c>[</c>), a PostgreSQL array
/// literal (<c>{a,"b c"}</c>, as psql and <c>query --format csv</c> write it) or an Arrow list of strings.
/// </summary>
public sealed class StringListSink(Field field) : ColumnSink(field)
{
    private readonly ListArray.Builder _builder = new(StringType.Default);

    private StringArray.Builder Values => (StringArray.Builder)_builder.ValueBuilder;

    /// <inheritdoc />
    public override void AppendJson(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            base.AppendJson(value);
            return;
        }
        _builder.Append();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Null) Values.AppendNull();
            else if (item.ValueKind == JsonValueKind.String) Values.Append(item.GetString());
            else throw new FormatException($"cannot read {item.GetRawText()} as text inside text[]");
        }
    }

    /// <inheritdoc />
    public override void AppendArrow(IArrowArray array, int index)
    {
        if (array is ListArray list && !list.IsNull(index) && list.GetSlicedValues(index) is StringArray items)
        {
            _builder.Append();
            for (var i = 0; i < items.Length; i++)
            {
                if (items.IsNull(i)) Values.AppendNull();
                else Values.Append(items.GetString(i));
            }
        }
        else
        {
            base.AppendArrow(array, index);
        }
    }

    /// <inheritdoc />
    protected override void AppendNullValue() => _builder.AppendNull();

    /// <inheritdoc />
    protected override void AppendNonEmptyText(ReadOnlySpan<char> text)
    {
        var t = text.Trim();
        if (t.StartsWith("["))
        {
            try
            {
                using var doc = JsonDocument.Parse(t.ToString());
                AppendJson(doc.RootElement);
                return;
            }
            catch (JsonException)
            {
                throw Unreadable(text, "text[]");
            }
        }
        if (t.Length < 2 || t[0] != '{' || t[^1] != '}') throw Unreadable(text, "text[] (write {a,b} or [\"a\",\"b\"])");
        _builder.Append();
        var body = t[1..^1];
        var i = 0;
        while (i < body.Length)
        {
            var item = new System.Text.StringBuilder();
            var quoted = body[i] == '"';
            if (quoted)
            {
                for (i++; i < body.Length && body[i] != '"'; i++)
                {
                    if (body[i] == '\\' && i + 1 < body.Length) i++;
                    item.Append(body[i]);
                }
                if (i >= body.Length) throw Unreadable(text, "text[] (unterminated quote)");
                i++;
            }
            else
            {
                for (; i < body.Length && body[i] != ','; i++) item.Append(body[i]);
            }
            var value = item.ToString();
            if (!quoted && value.Equals("NULL", StringComparison.OrdinalIgnoreCase)) Values.AppendNull();
            else Values.Append(value);
            if (i < body.Length && body[i] != ',') throw Unreadable(text, "text[]");
            i++;
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
