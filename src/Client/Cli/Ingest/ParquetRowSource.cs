using Apache.Arrow;
using Apache.Arrow.Ipc;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>Parquet, read a record batch at a time (ParquetSharp's Arrow reader).</summary>
public sealed class ParquetRowSource : IRowSource
{
    private readonly ParquetSharp.Arrow.FileReader _file;
    private readonly IArrowArrayStream _batches;
    private readonly long _totalRows;
    private RecordBatch? _batch;
    private int _row = -1;
    private long _rowsBefore;

    /// <summary>Opens <paramref name="path"/>.</summary>
    public ParquetRowSource(string path)
    {
        TotalBytes = new FileInfo(path).Length;
        _file = new ParquetSharp.Arrow.FileReader(path);
        _totalRows = _file.ParquetReader.FileMetaData.NumRows;
        Columns = _file.Schema.FieldsList.Select(f => f.Name).ToList();
        _batches = _file.GetRecordBatchReader();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Columns { get; }

    /// <inheritdoc />
    public long TotalBytes { get; }

    /// <inheritdoc />
    public long BytesRead => _totalRows == 0 ? TotalBytes : (long)((double)TotalBytes * (_rowsBefore + _row + 1) / _totalRows);

    /// <inheritdoc />
    public string Position => $"row {_rowsBefore + _row + 1}";

    /// <inheritdoc />
    public async ValueTask<bool> MoveNextAsync()
    {
        while (_batch is null || ++_row >= _batch.Length)
        {
            if (_batch is not null) _rowsBefore += _batch.Length;
            _batch?.Dispose();
            _batch = await _batches.ReadNextRecordBatchAsync();
            _row = -1;
            if (_batch is null) return false;
        }
        return true;
    }

    /// <inheritdoc />
    public void Append(int column, ColumnSink sink) => sink.AppendArrow(_batch!.Column(column), _row);

    /// <inheritdoc />
    public string? Text(int column) => _batch!.Column(column) is StringArray s ? s.GetString(_row) : null;

    /// <inheritdoc />
    public void Dispose()
    {
        _batch?.Dispose();
        _batches.Dispose();
        _file.Dispose();
    }
}
