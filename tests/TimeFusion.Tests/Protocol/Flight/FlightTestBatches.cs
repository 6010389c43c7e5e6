using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Tests.Protocol.Flight;

/// <summary>Small otel_logs_and_spans batches for the Flight tests.</summary>
internal static class FlightTestBatches
{
    private static readonly TimestampType Micros = new(TimeUnit.Microsecond, "UTC");

    public static Schema Schema { get; } = new Schema.Builder()
        .Field(f => f.Name("id").DataType(StringType.Default).Nullable(true))
        .Field(f => f.Name("timestamp").DataType(Micros).Nullable(false))
        .Field(f => f.Name("level").DataType(StringType.Default).Nullable(true))
        .Field(f => f.Name("name").DataType(StringType.Default).Nullable(true))
        .Build();

    /// <summary>Rows with the given ids (a null id makes the batch invalid: id is NOT NULL), level INFO, an optional long name.</summary>
    public static RecordBatch Rows(IReadOnlyList<string?> ids, string level = "INFO", int nameLength = 0)
    {
        var id = new StringArray.Builder();
        var ts = new TimestampArray.Builder(Micros);
        var lv = new StringArray.Builder();
        var nm = new StringArray.Builder();
        var start = new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);
        var name = new string('n', nameLength);
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] is { } v) id.Append(v); else id.AppendNull();
            ts.Append(start.AddSeconds(i));
            lv.Append(level);
            nm.Append(name);
        }
        return new RecordBatch(Schema, [id.Build(), ts.Build(), lv.Build(), nm.Build()], ids.Count);
    }

    public static IReadOnlyList<string> Ids(string prefix, int count) => Enumerable.Range(0, count).Select(i => $"{prefix}{i:D6}").ToList();
}
