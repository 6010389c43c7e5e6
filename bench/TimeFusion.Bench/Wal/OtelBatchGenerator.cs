using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Wal;

/// <summary>Realistic-looking <c>otel_logs_and_spans</c> batches: JSON bodies and attributes, ids, mostly-null flattened attributes.</summary>
public static class OtelBatchGenerator
{
    private static readonly string[] Services = ["checkout", "cart", "payments", "search", "frontend", "auth"];
    private static readonly string[] Levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE"];

    public static RecordBatch Create(int rows, int seed)
    {
        var schema = OtelLogsAndSpans.Schema;
        var random = new Random(seed);
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        var columns = new List<IArrowArray>();
        foreach (var column in schema.Columns)
        {
            columns.Add(column.Type switch
            {
                ColumnType.TimestampUs => Timestamps(rows, start, column.Nullable),
                ColumnType.Date => Dates(rows, start),
                ColumnType.Int32 => Int32s(rows, random, column.Name),
                ColumnType.Int64 => Int64s(rows, random),
                ColumnType.Boolean => Bools(rows, random),
                ColumnType.Utf8List => Lists(rows, random),
                ColumnType.Utf8 or ColumnType.Json => Strings(rows, random, column.Name, column.Nullable),
                _ => throw new NotSupportedException(column.Type.ToString()),
            });
        }
        return new RecordBatch(schema.ToArrowSchema(), columns, rows);
    }

    private static IArrowArray Timestamps(int rows, long start, bool nullable)
    {
        var b = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        for (var i = 0; i < rows; i++) b.Append(DateTimeOffset.FromUnixTimeMilliseconds((start + i * 137) / 1000));
        return b.Build();
    }

    private static IArrowArray Dates(int rows, long start)
    {
        var b = new Date32Array.Builder();
        var day = DateTimeOffset.FromUnixTimeMilliseconds(start / 1000).UtcDateTime.Date;
        for (var i = 0; i < rows; i++) b.Append(day);
        return b.Build();
    }

    private static IArrowArray Int32s(int rows, Random random, string name)
    {
        var b = new Int32Array.Builder();
        var dense = name.Contains("status_code") || name.Contains("severity_number");
        for (var i = 0; i < rows; i++)
        {
            if (!dense && random.Next(4) != 0) b.AppendNull();
            else b.Append(name.Contains("status") ? 200 + random.Next(4) * 100 : random.Next(1, 30_000));
        }
        return b.Build();
    }

    private static IArrowArray Int64s(int rows, Random random)
    {
        var b = new Int64Array.Builder();
        for (var i = 0; i < rows; i++) b.Append(random.NextInt64(1_000, 5_000_000_000));
        return b.Build();
    }

    private static IArrowArray Bools(int rows, Random random)
    {
        var b = new BooleanArray.Builder();
        for (var i = 0; i < rows; i++) b.Append(random.Next(2) == 0);
        return b.Build();
    }

    private static IArrowArray Lists(int rows, Random random)
    {
        var b = new ListArray.Builder(new Field("item", StringType.Default, true));
        var values = (StringArray.Builder)b.ValueBuilder;
        for (var i = 0; i < rows; i++)
        {
            b.Append();
            for (var k = random.Next(3); k > 0; k--) values.Append(Convert.ToHexString(BitConverter.GetBytes(random.NextInt64())).ToLowerInvariant());
        }
        return b.Build();
    }

    private static IArrowArray Strings(int rows, Random random, string name, bool nullable)
    {
        var b = new StringArray.Builder();
        for (var i = 0; i < rows; i++)
        {
            string? value = name switch
            {
                "id" or "context___trace_id" => Guid.NewGuid().ToString("N"),
                "parent_id" or "context___span_id" => random.Next(5) == 0 ? null : Guid.NewGuid().ToString("N")[..16],
                "project_id" => "00000000-0000-0000-0000-000000000001",
                "name" => $"{Methods[random.Next(Methods.Length)]} /api/v1/orders/{random.Next(10_000)}",
                "kind" => "SERVER",
                "level" or "severity___severity_text" => Levels[random.Next(Levels.Length)],
                "status_code" => "OK",
                "resource___service___name" => Services[random.Next(Services.Length)],
                "resource___service___version" => "1.4." + random.Next(20),
                "resource___telemetry___sdk___language" => "dotnet",
                "attributes___http___request___method" => Methods[random.Next(Methods.Length)],
                "attributes___url___path" => $"/api/v1/orders/{random.Next(10_000)}",
                "body" => $"{{\"msg\":\"handled user {random.Next(100_000)} in {random.Next(900)} ms\"}}",
                "attributes" => $"{{\"http.route\":\"/api/v1/orders/{{id}}\",\"user.id\":\"u{random.Next(100_000)}\",\"retry\":{random.Next(3)}}}",
                "resource" => $"{{\"host.name\":\"node-{random.Next(40)}\"}}",
                "context" => "{\"trace_flags\":\"01\"}",
                "severity" => "{\"severity_text\":\"INFO\",\"severity_number\":9}",
                _ => random.Next(10) == 0 ? $"value-{random.Next(1000)}" : null,
            };
            if (value is null && !nullable) value = "";
            if (value is null) b.AppendNull();
            else b.Append(value);
        }
        return b.Build();
    }
}
