using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.CrashChild;

/// <summary>The table the engine crash test writes and checks; shared by the child and the test (linked source).</summary>
public static class EngineCrashTable
{
    public static readonly TableSchema Schema = TableSchema.Create("crash_events",
    [
        new ColumnDefinition("id", ColumnType.Utf8, Nullable: false),
        new ColumnDefinition("batch", ColumnType.Utf8, Nullable: false),
        new ColumnDefinition("n", ColumnType.Int64),
    ]);

    public static EngineServices Services(string root, BufferDatabase buffer) => new(
        buffer,
        new LocalObjectStore(Path.Combine(root, "tables")),
        new LocalWalStorage(Path.Combine(root, "wal")),
        new EngineOptions { Flush = { StagingDirectory = Path.Combine(root, "staging") } });

    public static BufferDatabase OpenBuffer() =>
        BufferDatabase.Open(new BufferOptions { MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 1 });

    /// <summary>A batch whose rows all carry the batch key, ids "{batch}-{i}".</summary>
    public static RecordBatch Batch(string batchKey, int rows, long timestampUs)
    {
        var ids = new StringArray.Builder();
        var keys = new StringArray.Builder();
        var ns = new Int64Array.Builder();
        var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        for (var i = 0; i < rows; i++)
        {
            ids.Append($"{batchKey}-{i}");
            keys.Append(batchKey);
            ns.Append(i);
            ts.Append(DateTimeOffset.UnixEpoch.AddTicks((timestampUs + i) * 10));
        }
        var arrays = new IArrowArray[] { ids.Build(), keys.Build(), ns.Build(), ts.Build() };
        var schema = new Schema(
        [
            new Field("id", StringType.Default, false), new Field("batch", StringType.Default, false),
            new Field("n", Int64Type.Default, true), new Field("timestamp", arrays[3].Data.DataType, false),
        ], null);
        return new RecordBatch(schema, arrays, rows);
    }
}
