using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

internal static class BufferTestDatabase
{
    public static BufferDatabase Open(Action<BufferOptions>? configure = null)
    {
        var options = new BufferOptions
        {
            MemoryLimitBytes = 2L << 30,
            HardLimitBytes = 1L << 30,
            SoftLimitBytes = 512L << 20,
            Threads = 2,
            ReconcileInterval = TimeSpan.Zero,
        };
        configure?.Invoke(options);
        return BufferDatabase.Open(options);
    }

    /// <summary>A small table: timestamp, date, id, level, n (int64), tags (list), project_id.</summary>
    public static TableSchema SmallSchema { get; } = TableSchema.Create("small",
    [
        new ColumnDefinition("id", ColumnType.Utf8, Nullable: false),
        new ColumnDefinition("level", ColumnType.Utf8),
        new ColumnDefinition("n", ColumnType.Int64),
        new ColumnDefinition("tags", ColumnType.Utf8List),
    ]);

    /// <summary>A batch of <see cref="SmallSchema"/>: ids <c>{prefix}-{i}</c>, n = first + i, timestamps one second apart from <paramref name="start"/>.</summary>
    public static Apache.Arrow.RecordBatch SmallBatch(int rows, string prefix = "r", long first = 0, DateTimeOffset? start = null, int nullIdAt = -1)
    {
        var t0 = start ?? ArrowTestData.BaseTime;
        return ArrowTestData.Build(SmallSchema, rows, (c, i) => c.Name switch
        {
            "timestamp" => t0.AddSeconds(i),
            "date" => DateOnly.FromDateTime(t0.AddSeconds(i).UtcDateTime),
            "id" => i == nullIdAt ? null : $"{prefix}-{i}",
            "level" => i % 10 == 0 ? "ERROR" : "INFO",
            "n" => first + i,
            "tags" => i % 3 == 0 ? System.Array.Empty<string?>() : new string?[] { "t" + (i % 5) },
            "project_id" => "p1",
            _ => throw new InvalidOperationException(c.Name),
        });
    }

    public static async Task<long> CountAsync(BufferTable table, long aboveLsn = -1)
    {
        using var snapshot = table.OpenSnapshot(aboveLsn);
        await Task.Yield();
        return snapshot.CountRows();
    }
}
