using System.Text.Json;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>
/// JSON lines: one object per line, keys naming columns. The columns are the target table's (a key the table does not
/// have is an error naming the line); a key that is absent is NULL. Blank lines are skipped.
/// </summary>
public sealed class JsonLinesRowSource : IRowSource
{
    private readonly FileStream _stream;
    private readonly StreamReader _reader;
    private readonly Dictionary<string, int> _index;
    private readonly JsonElement?[] _values;
    private JsonDocument? _current;
    private long _line;

    /// <summary>Opens <paramref name="path"/>; <paramref name="columns"/> are the columns rows may have.</summary>
    public JsonLinesRowSource(string path, IReadOnlyList<string> columns)
    {
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        _reader = new StreamReader(_stream);
        TotalBytes = _stream.Length;
        Columns = columns;
        _index = columns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        _values = new JsonElement?[columns.Count];
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Columns { get; }

    /// <inheritdoc />
    public long TotalBytes { get; }

    /// <inheritdoc />
    public long BytesRead => _stream.Position;

    /// <inheritdoc />
    public string Position => $"line {_line}";

    /// <inheritdoc />
    public async ValueTask<bool> MoveNextAsync()
    {
        _current?.Dispose();
        _current = null;
        string? text;
        do
        {
            text = await _reader.ReadLineAsync();
            _line++;
            if (text is null) return false;
        } while (string.IsNullOrWhiteSpace(text));
        try
        {
            _current = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new FormatException("is not valid JSON: " + e.Message);
        }
        if (_current.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException("is not a JSON object");
        Array.Clear(_values);
        foreach (var property in _current.RootElement.EnumerateObject())
        {
            if (!_index.TryGetValue(property.Name, out var i))
            {
                if (property.Name == "date") continue; // derived from timestamp by the server
                throw new UnknownColumnException(property.Name);
            }
            _values[i] = property.Value;
        }
        return true;
    }

    /// <inheritdoc />
    public void Append(int column, ColumnSink sink)
    {
        if (_values[column] is { } value) sink.AppendJson(value);
        else sink.AppendNull();
    }

    /// <inheritdoc />
    public string? Text(int column) => _values[column] switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        var v => v.Value.GetRawText(),
    };

    /// <inheritdoc />
    public void Dispose()
    {
        _current?.Dispose();
        _reader.Dispose();
    }
}

/// <summary>A row names a column the table does not have.</summary>
public sealed class UnknownColumnException(string column) : FormatException($"has column '{column}', which the table does not have")
{
    /// <summary>The column.</summary>
    public string Column { get; } = column;
}
