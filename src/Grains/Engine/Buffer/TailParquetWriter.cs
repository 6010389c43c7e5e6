using System.Buffers;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using ParquetSharp;
using ParquetSharp.Arrow;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// Writes rows of the tail that are in timestamp order straight to Parquet with ParquetSharp's Arrow writer, one file
/// per date, as DuckDB's <c>COPY … TO parquet</c> would (the same columns and Parquet types, all optional, zstd level 1,
/// 122,880-row groups), with the Delta statistics read from the written file's footer (<see cref="ParquetFooterStatistics"/>;
/// from the Arrow arrays, <see cref="ArrowColumnStatistics"/>, for a column whose footer falls short) —
/// except that, with <c>omitNullColumns</c>, a nullable column null in every row written is left out of the files
/// (<see cref="BufferOptions.OmitNullColumns"/>).
/// No copy of a row: each batch is cut by date into zero-copy slices and handed to the writer of its date.
/// DuckDB's export took 3.75 µs of CPU per otel row, most of it converting each value into DuckDB's vectors and back
/// out (docs/BENCHMARKS.md, "The flush writes Arrow").
/// </summary>
internal static class TailParquetWriter
{
    /// <summary>Arrow's "no level given" (<c>kUseDefaultCompressionLevel</c>): a level set for a codec without levels is refused.</summary>
    private const int UseCodecDefaultLevel = int.MinValue;

    /// <summary>Rows per row group: DuckDB's <c>ROW_GROUP_SIZE</c> of the export.</summary>
    public const int RowGroupRows = 122_880;

    /// <summary>Whether the Delta statistics are gathered at all (benchmarks measure their cost by turning it off).</summary>
    internal static bool GatherStatistics { get; set; } = true;

    /// <summary>Whether nearly unique columns are written without a dictionary (benchmarks compare it with off).</summary>
    internal static bool PlainNearlyUnique { get; set; } = true;

    /// <summary>
    /// Whether the Delta statistics are read from the written file's footer (<see cref="ParquetFooterStatistics"/>)
    /// rather than gathered from the arrays as they are written (benchmarks and equivalence tests compare).
    /// </summary>
    internal static bool StatisticsFromFooter { get; set; } = true;

    /// <summary>
    /// Whether <paramref name="batchSchema"/> (the tail's) holds <paramref name="schema"/>'s columns in order, each of
    /// the Arrow type <see cref="ColumnTypeMapping.ToArrow"/> gives it: then the written file has the column types the
    /// DuckDB export gives. Otherwise the export goes through DuckDB.
    /// </summary>
    public static bool CanWrite(Schema batchSchema, TableSchema schema)
    {
        if (batchSchema.FieldsList.Count != schema.Columns.Count)
            return false;
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            var field = batchSchema.FieldsList[i];
            var column = schema.Columns[i];
            if (!string.Equals(field.Name, column.Name, StringComparison.Ordinal) || !SameType(field.DataType, ColumnTypeMapping.ToArrow(column.Type)))
                return false;
        }
        return true;
    }

    private static bool SameType(IArrowType x, IArrowType y) => (x, y) switch
    {
        (TimestampType a, TimestampType b) => a.Unit == b.Unit && a.Timezone == b.Timezone,
        (ListType a, ListType b) => SameType(a.ValueDataType, b.ValueDataType),
        (NestedType, _) or (_, NestedType) or (DictionaryType, _) or (_, DictionaryType) => false,
        _ => x.TypeId == y.TypeId,
    };

    /// <summary>
    /// Writes <paramref name="batches"/> (rows in timestamp order, in <paramref name="schema"/>'s shape, see
    /// <see cref="CanWrite"/>) under <paramref name="root"/>, one file per date in date order. On failure, deletes what it wrote.
    /// With <paramref name="useThreads"/>, a row group's columns are encoded on Arrow's thread pool, otherwise on the caller's thread.
    /// </summary>
    public static List<ExportedFile> Write(IReadOnlyList<RecordBatch> batches, TableSchema schema, string root, int maxStatsStringLength, bool useThreads,
        CancellationToken cancellationToken, bool omitNullColumns = false)
    {
        var (dateIndex, columns, omitted, fileSchema) = Layout(batches, schema, omitNullColumns);
        var files = new SortedDictionary<int, DateFile>();
        try
        {
            using var properties = WriterProperties(batches, columns);
            using var arrowProperties = new ArrowWriterPropertiesBuilder().UseThreads(useThreads).Build();
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var days = ((Date32Array)batch.Column(dateIndex)).Values;
                var from = 0;
                while (from < days.Length)
                {
                    // Rows in timestamp order: a date's rows are a run (usually the whole batch).
                    var day = days[from];
                    var to = from + 1;
                    while (to < days.Length && days[to] == day)
                        to++;
                    if (!files.TryGetValue(day, out var file))
                        files[day] = file = new DateFile(day, root, fileSchema, columns, omitted, schema, properties, arrowProperties, maxStatsStringLength);
                    file.Add(from == 0 && to == batch.Length ? batch : batch.Slice(from, to - from), cancellationToken);
                    from = to;
                }
            }
            var result = new List<ExportedFile>(files.Count);
            foreach (var file in files.Values)
                result.Add(file.Close(cancellationToken));
            return result;
        }
        catch
        {
            foreach (var file in files.Values)
                file.Abandon();
            throw;
        }
        finally
        {
            foreach (var file in files.Values)
                file.Dispose();
        }
    }

    /// <summary>
    /// Writes <paramref name="batches"/> (rows in any order, in <paramref name="schema"/>'s shape, see <see cref="CanWrite"/>,
    /// timestamps and dates without nulls) under <paramref name="root"/>, one file per date in date order, each date's
    /// rows in timestamp order (ties in arrival order, <see cref="TailSortOrder"/>). The rows are gathered in that
    /// order one row group (<see cref="RowGroupRows"/>) and one column at a time (<see cref="ArrowGather"/>), each
    /// column's buffers handed back once its chunk is written: the export holds 16 bytes per row for the order and
    /// one gathered column chunk above the tail. On failure, deletes what it wrote.
    /// </summary>
    public static List<ExportedFile> WriteSorted(IReadOnlyList<RecordBatch> batches, TableSchema schema, string root, int maxStatsStringLength, bool useThreads,
        CancellationToken cancellationToken, bool omitNullColumns = false)
    {
        var (dateIndex, columns, omitted, fileSchema) = Layout(batches, schema, omitNullColumns);
        using var order = TailSortOrder.Create(batches, schema.IndexOf(TableSchema.TimestampColumn), dateIndex);
        // Per written column, its array in every batch (the gather's sources).
        var sources = columns.Select(c => batches.Select(b => b.Column(c)).ToArray()).ToArray();
        var runs = ArrayPool<GatherRun>.Shared.Rent(Math.Min(RowGroupRows, Math.Max(1, order.Dates.Sum(d => d.Count))));
        var files = new List<DateFile>(order.Dates.Count);
        using var gather = new ArrowGather();
        try
        {
            using var properties = WriterProperties(batches, columns);
            using var arrowProperties = new ArrowWriterPropertiesBuilder().UseThreads(useThreads).Build();
            var result = new List<ExportedFile>(order.Dates.Count);
            foreach (var (day, start, count) in order.Dates)
            {
                var file = new DateFile(day, root, fileSchema, columns, omitted, schema, properties, arrowProperties, maxStatsStringLength);
                files.Add(file);
                for (var from = 0; from < count; from += RowGroupRows)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var rows = Math.Min(RowGroupRows, count - from);
                    var runCount = ArrowGather.ToRuns(order.Rows(start + from, rows), runs);
                    file.WriteGathered(sources, runs.AsSpan(0, runCount), rows, gather);
                }
                result.Add(file.Close(cancellationToken, c => DateArrays(order, sources[c], start, count)));
            }
            return result;
        }
        catch
        {
            foreach (var file in files)
                file.Abandon();
            throw;
        }
        finally
        {
            foreach (var file in files)
                file.Dispose();
            ArrayPool<GatherRun>.Shared.Return(runs);
        }
    }

    /// <summary>
    /// The arrays of one column holding the rows <paramref name="start"/> … start+count-1 of <paramref name="order"/>
    /// (one date's), as zero-copy slices of <paramref name="sources"/> in the order's runs: the statistics of a column
    /// whose footer fell short (<see cref="ParquetFooterStatistics"/>) are gathered from them.
    /// </summary>
    private static IEnumerable<IArrowArray> DateArrays(TailSortOrder order, IArrowArray[] sources, int start, int count)
    {
        var runs = new GatherRun[Math.Min(RowGroupRows, count)];
        for (var from = 0; from < count; from += RowGroupRows)
        {
            var n = ArrowGather.ToRuns(order.Rows(start + from, Math.Min(RowGroupRows, count - from)), runs);
            for (var r = 0; r < n; r++)
                yield return ArrowArrayFactory.Slice(sources[runs[r].Source], runs[r].Row, runs[r].Length);
        }
    }

    /// <summary>
    /// The date column's index, the columns written (all but the date: it is the partition value; with
    /// <paramref name="omitNullColumns"/>, none of <see cref="NullColumns"/> either), the columns left out, and the files' schema.
    /// </summary>
    private static (int DateIndex, int[] Columns, int[] Omitted, Schema FileSchema) Layout(IReadOnlyList<RecordBatch> batches, TableSchema schema, bool omitNullColumns)
    {
        var dateIndex = schema.IndexOf(TableSchema.DateColumn);
        var omitted = omitNullColumns ? NullColumns(batches, schema) : [];
        var columns = Enumerable.Range(0, schema.Columns.Count).Where(i => i != dateIndex && System.Array.IndexOf(omitted, i) < 0).ToArray();
        var fields = batches[0].Schema.FieldsList;
        // Optional columns, as DuckDB writes them.
        var fileSchema = new Schema(columns.Select(i => new Field(fields[i].Name, fields[i].DataType, nullable: true)), Enumerable.Empty<KeyValuePair<string, string>>());
        return (dateIndex, columns, omitted, fileSchema);
    }

    /// <summary>
    /// The nullable columns (never <c>timestamp</c>, the sort key, nor <c>date</c>, the partition) null in every row of
    /// <paramref name="batches"/>, hence of every file written from them: the Delta protocol lets a data file lack a
    /// column of the table schema, read as null ("Consistency Between Table Metadata and Data Files": "Columns present
    /// in the schema of the table MAY be missing from data files. Readers SHOULD fill these missing columns in with
    /// null"), and our readers do so (<see cref="Delta.DataFileColumns"/>). Per export rather than per file: the files of one
    /// export are nearly always one date's.
    /// </summary>
    internal static int[] NullColumns(IReadOnlyList<RecordBatch> batches, TableSchema schema)
    {
        var result = new List<int>();
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            var column = schema.Columns[i];
            if (column.Nullable && column.Name is not (TableSchema.TimestampColumn or TableSchema.DateColumn)
                && batches.All(b => b.Column(i) is var a && a.NullCount == a.Length))
                result.Add(i);
        }
        return [.. result];
    }

    /// <summary>
    /// zstd level 1, row groups of <see cref="RowGroupRows"/>, footer statistics on (as DuckDB writes them: queries prune
    /// row groups with them); no dictionary for columns whose first values are nearly all distinct
    /// (<see cref="NearlyUniqueColumns"/>; DuckDB's writer too drops the dictionary of a column with too many distinct values).
    /// </summary>
    private static WriterProperties WriterProperties(IReadOnlyList<RecordBatch> batches, int[] columns)
    {
        using var builder = new WriterPropertiesBuilder()
            .Compression(Compression.Zstd).CompressionLevel(1)
            .MaxRowGroupLength(RowGroupRows);
        // A column null in every row is a page of definition levels: nothing to compress, and Arrow's zstd codec
        // creates a compression context per page (~3 % of a COPY's CPU, most columns of a narrow COPY or INSERT being null).
        var fields = batches[0].Schema.FieldsList;
        foreach (var i in columns)
            if (fields[i].DataType is not NestedType && batches.All(b => b.Column(i) is var a && a.NullCount == a.Length))
                builder.Compression(fields[i].Name, Compression.Uncompressed).CompressionLevel(fields[i].Name, UseCodecDefaultLevel);
            else if (PlainNearlyUnique && NearlyUniqueColumns.Test(batches, i))
                builder.DisableDictionary(fields[i].Name);
        return builder.Build();
    }

    /// <summary>One date's file: rows gathered into row groups of <see cref="RowGroupRows"/>, written as each fills.</summary>
    private sealed class DateFile : IDisposable
    {
        private readonly DateOnly _date;
        private readonly string _path, _relative;
        private readonly int[] _columns, _omitted;
        private readonly ArrowColumnStatistics[] _stats;
        private readonly TableSchema _schema;
        private readonly FileWriter _writer;
        private readonly List<RecordBatch> _pending = [];
        // The parts written (Write's zero-copy slices), kept only when the statistics come from the footer: a column
        // whose footer fell short gets its statistics from them.
        private readonly List<RecordBatch> _written = [];
        private readonly bool _gather, _fromFooter;
        private int _pendingRows;
        private long _rows;
        private bool _closed;

        public DateFile(int day, string root, Schema fileSchema, int[] columns, int[] omitted, TableSchema schema, WriterProperties properties,
            ArrowWriterProperties arrowProperties, int maxStatsStringLength)
        {
            _date = DateOnly.FromDayNumber(Epoch + day);
            _relative = $"date={_date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/part-00000-{Guid.NewGuid():D}-c000.zstd.parquet";
            _path = Path.Combine(root, _relative.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            _columns = columns;
            _omitted = omitted;
            _schema = schema;
            _stats = columns.Select(c => new ArrowColumnStatistics(schema.Columns[c].Type, maxStatsStringLength)).ToArray();
            _gather = GatherStatistics && !StatisticsFromFooter;
            _fromFooter = GatherStatistics && StatisticsFromFooter;
            _writer = new FileWriter(_path, fileSchema, properties, arrowProperties);
        }

        public void Add(RecordBatch rows, CancellationToken cancellationToken)
        {
            while (rows.Length > 0)
            {
                var room = RowGroupRows - _pendingRows;
                var part = rows.Length <= room ? rows : rows.Slice(0, room);
                _pending.Add(part);
                if (_fromFooter)
                    _written.Add(part);
                _pendingRows += part.Length;
                rows = part == rows ? rows.Slice(0, 0) : rows.Slice(room, rows.Length - room);
                if (_pendingRows == RowGroupRows)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    WriteRowGroup();
                }
            }
        }

        /// <summary>
        /// Writes one row group of <paramref name="rows"/> rows gathered by <paramref name="runs"/> from
        /// <paramref name="sources"/> (per written column, its array in every batch), one column at a time.
        /// </summary>
        public void WriteGathered(IArrowArray[][] sources, ReadOnlySpan<GatherRun> runs, int rows, ArrowGather gather)
        {
            _writer.NewRowGroup();
            for (var c = 0; c < _columns.Length; c++)
            {
                var array = gather.Take(sources[c], runs, rows);
                try
                {
                    if (_gather)
                        _stats[c].Add(array);
                    _writer.WriteColumnChunk(array);
                }
                finally
                {
                    // The writer has encoded the chunk: its buffers go back to the pool.
                    gather.Release();
                }
            }
            _rows += rows;
        }

        private void WriteRowGroup()
        {
            if (_pendingRows == 0)
                return;
            _writer.NewRowGroup();
            for (var c = 0; c < _columns.Length; c++)
            {
                var arrays = new List<IArrowArray>(_pending.Count);
                foreach (var batch in _pending)
                {
                    var array = batch.Column(_columns[c]);
                    if (_gather)
                        _stats[c].Add(array);
                    arrays.Add(array);
                }
                _writer.WriteColumnChunk(new ChunkedArray(arrays));
            }
            _rows += _pendingRows;
            _pending.Clear();
            _pendingRows = 0;
        }

        /// <summary>
        /// Writes the last row group, closes the file and returns it with its statistics; <paramref name="arrays"/>
        /// gives a written column's arrays (by its index among the columns written) when they are not the parts added.
        /// </summary>
        public ExportedFile Close(CancellationToken cancellationToken, Func<int, IEnumerable<IArrowArray>>? arrays = null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteRowGroup();
            _writer.Close();
            _closed = true;
            if (_fromFooter)
            {
                var fallShort = ParquetFooterStatistics.Read(_path, _stats);
                for (var c = 0; c < _columns.Length; c++)
                    if (fallShort[c])
                        foreach (var array in arrays?.Invoke(c) ?? _written.Select(b => b.Column(_columns[c])))
                            _stats[c].Add(array);
            }
            var stats = new Dictionary<string, ColumnStats>(StringComparer.Ordinal);
            for (var c = 0; c < _columns.Length; c++)
                stats[_schema.Columns[_columns[c]].Name] = _stats[c].Result();
            // A column left out is null in every row: its null count is the row count, it has no bounds.
            foreach (var c in _omitted)
                stats[_schema.Columns[c].Name] = new ColumnStats(_rows, null, null);
            return new ExportedFile(_date, _path, _relative, _rows, new FileInfo(_path).Length, stats);
        }

        public void Abandon()
        {
            try
            {
                if (!_closed)
                    _writer.Close();
            }
            catch (ParquetException)
            {
                // The file is deleted below whatever state the writer was left in.
            }
            _closed = true;
            _writer.Dispose();
            if (File.Exists(_path))
                File.Delete(_path);
        }

        public void Dispose() => _writer.Dispose();
    }

    private static readonly int Epoch = new DateOnly(1970, 1, 1).DayNumber;
}
