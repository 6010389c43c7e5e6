using ParquetSharp;

namespace TimeFusion.Client.Cli.Gen;

/// <summary>Parquet (ParquetSharp): row groups of <see cref="RowGroupRows"/> rows, timestamps in microseconds UTC.</summary>
public sealed class ParquetTelemetryWriter : ITelemetryWriter
{
    /// <summary>Rows per row group.</summary>
    public const int RowGroupRows = 65_536;

    private readonly ParquetFileWriter _writer;
    private readonly List<TelemetryRecord> _rows = new(RowGroupRows);

    /// <summary>Creates <paramref name="path"/>.</summary>
    public ParquetTelemetryWriter(string path)
    {
        var columns = TelemetryColumns.All.Select(c => c.Kind switch
        {
            GenColumnKind.Int32 => (Column)new Column<int?>(c.Name),
            GenColumnKind.Int64 => new Column<long?>(c.Name),
            GenColumnKind.Timestamp => new Column<DateTime?>(c.Name, LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
            _ => new Column<string>(c.Name),
        }).ToArray();
        using var properties = new WriterPropertiesBuilder().Compression(Compression.Zstd).Build();
        _writer = new ParquetFileWriter(path, columns, properties);
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(TelemetryRecord record, CancellationToken ct)
    {
        _rows.Add(record);
        if (_rows.Count == RowGroupRows) WriteRowGroup();
        return ValueTask.CompletedTask;
    }

    private void WriteRowGroup()
    {
        using var group = _writer.AppendRowGroup();
        foreach (var column in TelemetryColumns.All)
        {
            switch (column.Kind)
            {
                case GenColumnKind.Int32:
                    using (var w = group.NextColumn().LogicalWriter<int?>()) w.WriteBatch(_rows.Select(r => (int?)column.Value(r)).ToArray());
                    break;
                case GenColumnKind.Int64:
                    using (var w = group.NextColumn().LogicalWriter<long?>()) w.WriteBatch(_rows.Select(r => (long?)column.Value(r)).ToArray());
                    break;
                case GenColumnKind.Timestamp:
                    using (var w = group.NextColumn().LogicalWriter<DateTime?>()) w.WriteBatch(_rows.Select(r => (DateTime?)column.Value(r)).ToArray());
                    break;
                default:
                    using (var w = group.NextColumn().LogicalWriter<string>()) w.WriteBatch(_rows.Select(r => (string)column.Value(r)!).ToArray());
                    break;
            }
        }
        group.Close();
        _rows.Clear();
    }

    /// <inheritdoc />
    public ValueTask CompleteAsync(CancellationToken ct)
    {
        if (_rows.Count > 0) WriteRowGroup();
        _writer.Close();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _writer.Dispose();
        return ValueTask.CompletedTask;
    }
}
