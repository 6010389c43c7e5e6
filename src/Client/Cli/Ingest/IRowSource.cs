namespace TimeFusion.Client.Cli.Ingest;

/// <summary>A file read row by row (never loaded whole) for <c>ingest</c>.</summary>
public interface IRowSource : IDisposable
{
    /// <summary>The column names, in file order.</summary>
    IReadOnlyList<string> Columns { get; }

    /// <summary>Moves to the next row; false at the end.</summary>
    ValueTask<bool> MoveNextAsync();

    /// <summary>Where the current row is, for error messages (<c>line 12</c>, <c>row 12</c>).</summary>
    string Position { get; }

    /// <summary>Bytes of the file consumed so far (for progress).</summary>
    long BytesRead { get; }

    /// <summary>The file's size in bytes.</summary>
    long TotalBytes { get; }

    /// <summary>Appends the current row's value of <paramref name="column"/> to <paramref name="sink"/>.</summary>
    void Append(int column, ColumnSink sink);

    /// <summary>The current row's value of <paramref name="column"/> as text (null or empty when missing).</summary>
    string? Text(int column);
}
