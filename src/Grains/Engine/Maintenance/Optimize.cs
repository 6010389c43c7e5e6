using System.Globalization;
using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.DuckDb;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Flush;
using TimeFusion.Tables;

namespace TimeFusion.Maintenance;

/// <summary>A group of small files of one date partition that OPTIMIZE merges into one file.</summary>
/// <param name="Date">The date partition.</param>
/// <param name="Inputs">The files merged (at least two).</param>
public sealed record OptimizeBin(DateOnly Date, IReadOnlyList<AddFile> Inputs);

/// <summary>The merged file of one <see cref="OptimizeBin"/>, uploaded, not yet committed.</summary>
internal sealed record OptimizeOutput(OptimizeBin Bin, ExportedFile File, IDisposable Writing);

/// <summary>
/// OPTIMIZE (bin-packing compaction): picks the small files of each date partition (<see cref="Plan"/>), groups them
/// into bins of at most <see cref="MaintenanceOptions.TargetFileBytes"/> / <see cref="MaintenanceOptions.TargetFileRows"/>
/// in timestamp order, and rewrites each bin as one Parquet file sorted by timestamp (DuckDB <c>read_parquet</c> →
/// <c>COPY … RETURN_STATS</c>, the same path a flush takes). The rewrite is background work that must not slow ingest:
/// it runs in a DuckDB instance of its own (not the silo's buffer database) with
/// <see cref="MaintenanceOptions.OptimizeThreads"/> threads and <see cref="MaintenanceOptions.OptimizeMemoryBytes"/> of
/// memory, on a thread of lowered OS priority (<see cref="MaintenanceOptions.OptimizeIdlePriority"/>, <see cref="MaintenanceOptions.OptimizeNice"/>). The commit — <c>remove</c> + <c>add</c> with
/// <c>dataChange: false</c> — is the table engine's job: it checks under its flush lock that every input is still active.
/// Rows are never changed, only moved; the inputs stay on storage until VACUUM.
/// </summary>
internal sealed class DeltaOptimizer(MaintenanceOptions options, BufferTable buffer, DeltaTable delta, string stagingRoot, SnapshotPins pins)
{
    private const string ParquetOptions = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, RETURN_STATS";

    /// <summary>
    /// The bins to rewrite in <paramref name="snapshot"/>: per date partition within [<paramref name="from"/>,
    /// <paramref name="to"/>] (null = unbounded), its files below <see cref="MaintenanceOptions.SmallFileBytes"/> when there
    /// are at least <paramref name="minSmallFiles"/> of them, packed in order of their smallest timestamp; bins of one file
    /// are dropped (nothing to merge).
    /// </summary>
    public static IReadOnlyList<OptimizeBin> Plan(DeltaSnapshot snapshot, MaintenanceOptions options, DateOnly? from, DateOnly? to, int minSmallFiles)
    {
        var bins = new List<OptimizeBin>();
        var byDate = new SortedDictionary<DateOnly, List<AddFile>>();
        foreach (var f in snapshot.Files)
        {
            if (f.Size >= options.SmallFileBytes || f.DeletionVector is not null || PartitionDate(f) is not { } day) continue;
            if ((from is { } lo && day < lo) || (to is { } hi && day > hi)) continue;
            if (!byDate.TryGetValue(day, out var list)) byDate[day] = list = [];
            list.Add(f);
        }
        foreach (var (day, files) in byDate)
        {
            if (files.Count < Math.Max(2, minSmallFiles)) continue;
            files.Sort((a, b) => MinTimestamp(a).CompareTo(MinTimestamp(b)));
            var current = new List<AddFile>();
            long bytes = 0, rows = 0;
            foreach (var f in files)
            {
                var fileRows = f.GetStats()?.NumRecords ?? 0;
                if (current.Count > 0 && (bytes + f.Size > options.TargetFileBytes || rows + fileRows > options.TargetFileRows))
                {
                    if (current.Count > 1) bins.Add(new OptimizeBin(day, current));
                    current = [];
                    bytes = rows = 0;
                }
                current.Add(f);
                bytes += f.Size;
                rows += fileRows;
            }
            if (current.Count > 1) bins.Add(new OptimizeBin(day, current));
        }
        return bins;
    }

    /// <summary>Files per date partition of <paramref name="snapshot"/> that count as small.</summary>
    public static int SmallFiles(DeltaSnapshot snapshot, MaintenanceOptions options) =>
        snapshot.Files.Count(f => f.Size < options.SmallFileBytes);

    /// <summary>
    /// Writes and uploads the merged file of every bin (read from <paramref name="snapshot"/>, which the caller pins).
    /// Each output is registered as being written (<see cref="SnapshotPins.Writing"/>) until its handle is disposed.
    /// On failure the outputs uploaded so far are deleted (never committed).
    /// </summary>
    public async Task<List<OptimizeOutput>> RewriteAsync(DeltaSnapshot snapshot, IReadOnlyList<OptimizeBin> bins, CancellationToken cancellationToken)
    {
        var staging = Path.Combine(stagingRoot, "optimize-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        var outputs = new List<OptimizeOutput>();
        try
        {
            foreach (var bin in bins)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var locals = new List<string>(bin.Inputs.Count);
                foreach (var f in bin.Inputs)
                    locals.Add(await delta.Store.GetLocalPathAsync(snapshot.ObjectPath(f), cancellationToken));
                var relative = DeltaLogPaths.NewDataFilePath(bin.Date);
                var writing = pins.Writing(relative);
                try
                {
                    var file = await LowPriorityThread.RunAsync("TimeFusion OPTIMIZE", options.OptimizeNice, options.OptimizeIdlePriority,
                        () => WriteOne(bin, locals, DeltaSchemaEvolution.AddedColumns(snapshot), staging, relative, cancellationToken));
                    await delta.Store.UploadFileAsync(delta.ObjectPath(relative), file.LocalPath, cancellationToken);
                    File.Delete(file.LocalPath);
                    outputs.Add(new OptimizeOutput(bin, file, writing));
                }
                catch
                {
                    writing.Dispose();
                    throw;
                }
            }
            return outputs;
        }
        catch
        {
            await DiscardAsync(outputs);
            throw;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Deletes uploaded outputs that will not be committed.</summary>
    public async Task DiscardAsync(IEnumerable<OptimizeOutput> outputs)
    {
        foreach (var o in outputs)
        {
            try
            {
                await delta.Store.DeleteAsync(delta.ObjectPath(o.File.RelativePath), CancellationToken.None);
            }
            finally
            {
                o.Writing.Dispose();
            }
        }
    }

    private ExportedFile WriteOne(OptimizeBin bin, List<string> locals, IReadOnlySet<string> added, string staging, string relative, CancellationToken cancellationToken)
    {
        var schema = buffer.Schema;
        // Inputs may lack columns null in all their rows, or added by ALTER TABLE: read by name, a missing column as
        // NULL. A column null in every input is not read, and stays out of the output too (unless every column is kept).
        var fileColumns = DataFileColumns.Of(schema, bin.Inputs, added);
        var omitted = buffer.OmitNullColumns ? fileColumns.Omittable(schema) : [];
        var columns = string.Join(", ", schema.Columns.Where(c => c.Name != TableSchema.DateColumn && !omitted.Contains(c.Name)).Select(fileColumns.Select));
        var source = fileColumns.Read(schema, locals, unionByName: true);
        var path = Path.Combine(staging, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = OpenDatabase(Path.Combine(staging, "duckdb-temp"));
        try
        {
            var expected = ExpectedRows(bin);
            if (expected is null)
            {
                using var count = connection.CreateCommand();
                count.CommandText = $"SELECT count(*) FROM {source}";
                expected = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            }
            var sql = $"COPY (SELECT {columns} FROM {source} ORDER BY {SqlNames.Quote(TableSchema.TimestampColumn)}) TO {SqlNames.Literal(path)} ({ParquetOptions})";
            var written = buffer.CopyOne(connection, sql, bin.Date, path, relative, cancellationToken, omitted);
            if (written.Rows != expected)
                throw new InvalidOperationException($"OPTIMIZE of {bin.Inputs.Count} files of {bin.Date:yyyy-MM-dd} wrote {written.Rows} rows, expected {expected}");
            return written;
        }
        finally
        {
            connection.Close();
        }
    }

    /// <summary>A fresh in-memory DuckDB instance for one rewrite, with OPTIMIZE's own thread and memory limits.</summary>
    private DuckDBConnection OpenDatabase(string tempDirectory)
    {
        Directory.CreateDirectory(tempDirectory);
        var connection = new DuckDBConnection("DataSource=:memory:");
        try
        {
            connection.Open();
            foreach (var sql in new[]
                     {
                         $"SET threads = {options.OptimizeThreads.ToString(CultureInfo.InvariantCulture)}",
                         $"SET memory_limit = '{options.OptimizeMemoryBytes.ToString(CultureInfo.InvariantCulture)}B'",
                         $"SET temp_directory = {SqlNames.Literal(Path.GetFullPath(tempDirectory))}",
                         "SET GLOBAL TimeZone = 'UTC'",
                     })
            {
                DuckDbCommands.Execute(connection, sql);
            }
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static long? ExpectedRows(OptimizeBin bin)
    {
        long total = 0;
        foreach (var f in bin.Inputs)
        {
            if (f.GetStats()?.NumRecords is not { } n) return null;
            total += n;
        }
        return total;
    }

    /// <summary>The <c>remove</c> + <c>add</c> actions (all <c>dataChange: false</c>) that commit <paramref name="outputs"/>.</summary>
    public static List<DeltaAction> Actions(IReadOnlyList<OptimizeOutput> outputs, TableSchema schema, DateTimeOffset now)
    {
        var actions = new List<DeltaAction>();
        foreach (var o in outputs)
        {
            foreach (var input in o.Bin.Inputs)
                actions.Add(RemoveFile.For(input, now.ToUnixTimeMilliseconds(), dataChange: false));
            actions.Add(DeltaAddForExport.Create(o.File, schema, now) with { DataChange = false });
        }
        return actions;
    }

    internal static DateOnly? PartitionDate(AddFile f) =>
        f.PartitionValues.TryGetValue(TableSchema.DateColumn, out var text) && text is not null
        && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : null;

    private static long MinTimestamp(AddFile f) =>
        f.GetStats()?.MinValues is { } min && min.TryGetValue(TableSchema.TimestampColumn, out var v) && v.TryGetTimestampMicros(out var micros)
            ? micros
            : long.MinValue;
}
