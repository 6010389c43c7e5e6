using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Engine;

/// <summary>Builds engines over local storage in a temp folder, makes rows, and counts what a snapshot sees.</summary>
public sealed class EngineTestKit : IAsyncDisposable
{
    public static readonly TableSchema Schema = TableSchema.Create("events",
    [
        new ColumnDefinition("id", ColumnType.Utf8, Nullable: false),
        new ColumnDefinition("service", ColumnType.Utf8),
        new ColumnDefinition("duration", ColumnType.Int64),
        new ColumnDefinition("hashes", ColumnType.Utf8List),
    ]);

    public static readonly long T0 = (new DateTimeOffset(2026, 11, 24, 22, 0, 0, TimeSpan.Zero) - DateTimeOffset.UnixEpoch).Ticks / 10;

    public EngineTestKit(string root, BufferOptions? buffer = null, EngineOptions? options = null)
    {
        Root = root;
        Options = options ?? new EngineOptions();
        Options.Flush.StagingDirectory = Path.Combine(root, "staging");
        Buffer = BufferDatabase.Open(buffer ?? new BufferOptions { MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 2 });
        Objects = new LocalObjectStore(Path.Combine(root, "tables"));
        Wal = new LocalWalStorage(Path.Combine(root, "wal"));
    }

    public string Root { get; }
    public EngineOptions Options { get; }
    public BufferDatabase Buffer { get; }
    public LocalObjectStore Objects { get; }
    public IWalStorage Wal { get; set; }

    public EngineServices Services => new(Buffer, Objects, Wal, Options);

    public Task<TableEngine> OpenAsync(TableId id) => TableEngine.OpenAsync(id, Schema, Services);

    /// <summary>A batch of <paramref name="rows"/> rows with ids "{prefix}-{i}", spread over two UTC days.</summary>
    public static RecordBatch Rows(string prefix, int rows, long durationBase = 0)
    {
        var ids = new StringArray.Builder();
        var services = new StringArray.Builder();
        var durations = new Int64Array.Builder();
        var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        var hashes = new ListArray.Builder(StringType.Default);
        var hv = (StringArray.Builder)hashes.ValueBuilder;
        for (var i = 0; i < rows; i++)
        {
            ids.Append($"{prefix}-{i}");
            services.Append(i % 3 == 0 ? null : $"svc-{i % 5}");
            durations.Append(durationBase + i);
            // Every 4th row lands on the next day: flushes write two date partitions.
            ts.Append(DateTimeOffset.UnixEpoch.AddTicks((T0 + (i % 4 == 0 ? 3L * 3_600_000_000 : 0) + i) * 10));
            hashes.Append();
            if (i % 2 == 0) hv.Append($"h{i}");
        }
        var arrays = new IArrowArray[] { ids.Build(), services.Build(), durations.Build(), ts.Build(), hashes.Build() };
        var schema = new Schema(
        [
            new Field("id", StringType.Default, false), new Field("service", StringType.Default, true),
            new Field("duration", Int64Type.Default, true), new Field("timestamp", arrays[3].Data.DataType, false),
            new Field("hashes", arrays[4].Data.DataType, true),
        ], null);
        return new RecordBatch(schema, arrays, rows);
    }

    /// <summary>A batch of <paramref name="rows"/> otel rows (id, timestamp, service, level, duration) for cluster tests.</summary>
    public static RecordBatch OtelRows(int rows, string prefix = "r", long? startMicros = null)
    {
        var ids = new StringArray.Builder();
        var services = new StringArray.Builder();
        var levels = new StringArray.Builder();
        var durations = new Int64Array.Builder();
        var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        var start = startMicros ?? T0;
        for (var i = 0; i < rows; i++)
        {
            ids.Append($"{prefix}-{Guid.NewGuid():N}");
            services.Append($"svc-{i % 4}");
            levels.Append(i % 10 == 0 ? "ERROR" : "INFO");
            durations.Append(1000 + i);
            ts.Append(DateTimeOffset.UnixEpoch.AddTicks((start + i * 1_000_000L) * 10));
        }
        var arrays = new IArrowArray[] { ids.Build(), services.Build(), levels.Build(), durations.Build(), ts.Build() };
        var schema = new Schema(
        [
            new Field("id", StringType.Default, false), new Field("resource___service___name", StringType.Default, true),
            new Field("level", StringType.Default, true), new Field("duration", Int64Type.Default, true),
            new Field("timestamp", arrays[4].Data.DataType, false),
        ], null);
        return new RecordBatch(schema, arrays, rows);
    }

    /// <summary>Rows seen by a snapshot (buffer side plus Delta files), and how many distinct ids among them.</summary>
    public async Task<(long Rows, long DistinctIds, long DurationSum)> CountAsync(TableSnapshot snapshot)
    {
        var files = new List<string>();
        foreach (var add in snapshot.Delta.Files)
            files.Add(await Objects.GetLocalPathAsync(snapshot.Delta.ObjectPath(add)));
        var delta = files.Count == 0
            ? ""
            : " UNION ALL SELECT id, duration FROM read_parquet([" + string.Join(", ", files.Select(SqlNames.Literal)) + "])";
        var sql = $"SELECT count(*), count(DISTINCT id), coalesce(sum(duration), 0)::BIGINT FROM (SELECT id, duration FROM {snapshot.Buffer.Relation}{delta})";
        using var cmd = snapshot.Buffer.Connection.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return (Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2)));
    }

    public async ValueTask DisposeAsync() => await Buffer.DisposeAsync();
}
