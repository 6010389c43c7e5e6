using nietras.SeparatedValues;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>CSV with a header line (Sep: RFC 4180 quoting, fields across lines). An empty field is NULL.</summary>
public sealed class CsvRowSource : IRowSource
{
    private readonly FileStream _stream;
    private readonly SepReader _reader;
    private string? _lastProject;

    /// <summary>Opens <paramref name="path"/> and reads its header.</summary>
    public CsvRowSource(string path)
    {
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        TotalBytes = _stream.Length;
        _reader = Sep.New(',').Reader(o => o with { Unescape = true }).From(_stream);
        Columns = _reader.Header.ColNames.ToList();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Columns { get; }

    /// <inheritdoc />
    public long TotalBytes { get; }

    /// <inheritdoc />
    public long BytesRead => _stream.Position;

    /// <inheritdoc />
    public string Position => $"line {_reader.Current.LineNumberFrom}";

    /// <inheritdoc />
    public ValueTask<bool> MoveNextAsync()
    {
        if (!_reader.MoveNext()) return ValueTask.FromResult(false);
        if (_reader.Current.ColCount != Columns.Count)
            throw new FormatException($"has {_reader.Current.ColCount} fields; the header has {Columns.Count}");
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public void Append(int column, ColumnSink sink) => sink.AppendText(_reader.Current[column].Span);

    /// <inheritdoc />
    public string? Text(int column)
    {
        // Rows of one project usually come together: make a string only when the project changes.
        var span = _reader.Current[column].Span;
        if (_lastProject is null || !span.SequenceEqual(_lastProject)) _lastProject = span.ToString();
        return _lastProject;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
    }
}
