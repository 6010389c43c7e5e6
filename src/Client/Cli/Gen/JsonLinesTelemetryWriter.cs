using System.Text.Json;

namespace TimeFusion.Client.Cli.Gen;

/// <summary>JSON lines: one object per row, NULL columns left out, timestamps ISO 8601 UTC.</summary>
public sealed class JsonLinesTelemetryWriter(string path) : ITelemetryWriter
{
    private static readonly JsonEncodedText[] Names = TelemetryColumns.All.Select(c => JsonEncodedText.Encode(c.Name)).ToArray();
    private readonly FileStream _file = new(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
    private Utf8JsonWriter? _json;

    /// <inheritdoc />
    public async ValueTask WriteAsync(TelemetryRecord record, CancellationToken ct)
    {
        _json ??= new Utf8JsonWriter(_file, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _json.Reset(_file);
        _json.WriteStartObject();
        for (var i = 0; i < Names.Length; i++)
        {
            switch (TelemetryColumns.All[i].Value(record))
            {
                case null: break;
                case DateTime t: _json.WriteString(Names[i], TelemetryGenerator.Iso(t)); break;
                case int n: _json.WriteNumber(Names[i], n); break;
                case long n: _json.WriteNumber(Names[i], n); break;
                case var v: _json.WriteString(Names[i], v.ToString()); break;
            }
        }
        _json.WriteEndObject();
        await _json.FlushAsync(ct);
        _file.WriteByte((byte)'\n');
    }

    /// <inheritdoc />
    public async ValueTask CompleteAsync(CancellationToken ct) => await _file.FlushAsync(ct);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_json is not null) await _json.DisposeAsync();
        await _file.DisposeAsync();
    }
}
