using System.Globalization;
using nietras.SeparatedValues;

namespace TimeFusion.Client.Cli.Gen;

/// <summary>CSV with a header line (Sep); NULL is an empty field, timestamps ISO 8601 UTC.</summary>
public sealed class CsvTelemetryWriter(string path) : ITelemetryWriter
{
    private readonly SepWriter _writer = Sep.New(',').Writer(o => o with { Escape = true }).ToFile(path);

    /// <inheritdoc />
    public ValueTask WriteAsync(TelemetryRecord record, CancellationToken ct)
    {
        using var row = _writer.NewRow();
        foreach (var column in TelemetryColumns.All)
        {
            row[column.Name].Set(column.Value(record) switch
            {
                null => "",
                DateTime t => TelemetryGenerator.Iso(t),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                var v => v.ToString()!,
            });
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask CompleteAsync(CancellationToken ct)
    {
        _writer.Flush();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _writer.Dispose();
        return ValueTask.CompletedTask;
    }
}
