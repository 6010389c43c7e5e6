using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Ingest;

/// <summary>
/// Write path, step 1: checks an incoming Arrow batch against its table and returns it in the table's
/// canonical Arrow schema (column order, canonical types), or rejects it whole.
/// Checks: well-formed Arrow buffers, no unknown or duplicate columns, every NOT NULL column present and null-free, types match
/// (strings in any encoding, timestamps in any unit), JSON columns hold JSON (22P02), <c>timestamp</c> within bounds, <c>date</c> equal to
/// the UTC date of <c>timestamp</c> and <c>project_id</c> equal to the target project where given.
/// Missing nullable columns become null columns; a missing <c>date</c> or <c>project_id</c> is filled in; null flattened
/// attribute columns are filled from the JSON <c>attributes</c> / <c>resource</c> (<see cref="FlattenedAttributes"/>).
/// Columns already canonical are passed through without copying.
/// This is the one place that turns an untrusted batch (a client's, or one decoded from WAL bytes on replay) into a
/// <see cref="ValidatedBatch"/>; each batch is validated once, and the later stages trust the result.
/// </summary>
public static class BatchValidator
{
    private const long MicrosPerDay = 86_400_000_000L;

    /// <summary>Validates and normalizes <paramref name="batch"/> for <paramref name="project"/>'s table.</summary>
    /// <exception cref="BatchRejectedException">The batch does not fit; the message says where.</exception>
    public static ValidatedBatch Validate(RecordBatch batch, TableSchema schema, string project, IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(options);
        var rows = batch.Length;
        if (rows > options.MaxRowsPerBatch)
            throw new BatchRejectedException($"batch has {rows} rows; the limit is {options.MaxRowsPerBatch} (TimeFusion:Ingest:MaxRowsPerBatch)", SqlState.ProgramLimitExceeded);
        var bytes = ArrowSize.Of(batch);
        if (bytes > options.MaxBatchBytes)
            throw TooLarge(bytes, options);

        // Structure first (buffer lengths, offsets, UTF-8): a client's batch is untrusted bytes.
        try
        {
            TimeFusion.Arrow.ArrowStructureValidator.Validate(batch);
        }
        catch (TimeFusion.Arrow.ArrowValidationException e)
        {
            throw new BatchRejectedException("malformed Arrow batch: " + e.Message);
        }

        // Each table column's position in the batch (-1: not sent), found with one lookup per sent column.
        var columnCount = schema.Columns.Count;
        Span<int> sourceOf = columnCount <= 256 ? stackalloc int[columnCount] : new int[columnCount];
        sourceOf.Fill(-1);
        for (var i = 0; i < batch.Schema.FieldsList.Count; i++)
        {
            var name = batch.Schema.FieldsList[i].Name;
            var ordinal = schema.IndexOf(name);
            if (ordinal < 0)
                throw new BatchRejectedException($"column '{name}' does not exist in table '{schema.Name}'");
            if (sourceOf[ordinal] >= 0)
                throw new BatchRejectedException($"column '{name}' appears twice in the batch");
            sourceOf[ordinal] = i;
        }

        var arrays = new IArrowArray[columnCount];
        var flattened = FlattenedAttributes.For(schema);
        for (var c = 0; c < columnCount; c++)
        {
            var column = schema.Columns[c];
            var source = sourceOf[c];
            if (source >= 0)
            {
                arrays[c] = Conform(batch.Column(source), column, schema.Name);
                if (column.Type is ColumnType.Utf8 or ColumnType.Json or ColumnType.Utf8List) NulCharacters.Check(arrays[c], column.Name);
                if (column.Type is ColumnType.Json && flattened?.IsSource(c) != true) JsonValues.Check(arrays[c], column.Name);
                if (!column.Nullable && arrays[c].NullCount > 0)
                    throw new BatchRejectedException($"column '{column.Name}' is NOT NULL but row {FirstNull(arrays[c])} is null", SqlState.NotNullViolation);
            }
            else if (column.Name is TableSchema.DateColumn or TableSchema.ProjectColumn)
            {
                arrays[c] = null!; // derived below, once timestamp is known
            }
            else if (!column.Nullable)
            {
                throw new BatchRejectedException($"column '{column.Name}' is NOT NULL and missing from the batch", SqlState.NotNullViolation);
            }
            else
            {
                arrays[c] = NullColumns.Of(schema.ToArrowSchema().FieldsList[c].DataType, rows);
            }
        }

        // attributes / resource: checked as JSON and, in the same pass, their flattened columns filled where null.
        flattened?.CheckAndFill(arrays, rows, schema, options.FlattenAttributes);

        var ts = (TimestampArray)arrays[schema.IndexOf(TableSchema.TimestampColumn)];
        CheckTimestampBounds(ts, options);

        var dateIndex = schema.IndexOf(TableSchema.DateColumn);
        if (arrays[dateIndex] is null) arrays[dateIndex] = DatesOf(ts);
        else CheckDates((Date32Array)arrays[dateIndex], ts);

        var projectIndex = schema.IndexOf(TableSchema.ProjectColumn);
        if (arrays[projectIndex] is null) arrays[projectIndex] = ConstantString(project, rows);
        else CheckProject((StringArray)arrays[projectIndex], project);

        // Every column is either a checked input column (or a view of one) or built here: structurally sound.
        var canonical = new RecordBatch(schema.ToArrowSchema(), arrays, rows);
        // Checked again as the table holds it (with project_id and date filled in): this is what the WAL logs, and
        // MaxBatchBytes leaves the WAL's MaxEntryBytes room for it, so no limit further down can refuse it.
        var canonicalBytes = ArrowSize.Of(canonical);
        if (canonicalBytes > options.MaxBatchBytes)
            throw TooLarge(canonicalBytes, options);
        return new ValidatedBatch(canonical, schema);
    }

    private static BatchRejectedException TooLarge(long bytes, IngestOptions options) => new(
        $"batch holds {bytes} bytes (with project_id and date filled in); the limit is {options.MaxBatchBytes} (TimeFusion:Ingest:MaxBatchBytes): split it into smaller batches",
        SqlState.ProgramLimitExceeded);

    /// <summary>
    /// Validates a batch already in <paramref name="schema"/>'s shape (the buffer's input: same columns in the same
    /// order, types the table accepts, no nulls in NOT NULL columns) without normalizing it.
    /// </summary>
    /// <param name="batch">The batch.</param>
    /// <param name="schema">The table.</param>
    /// <param name="validateUtf8">Whether strings must be valid UTF-8 here (DuckDB also checks while appending; this names the column).</param>
    /// <exception cref="SchemaException">A missing, extra, misnamed or mistyped column, a null in a NOT NULL column, or a malformed array.</exception>
    public static ValidatedBatch ValidateRows(RecordBatch batch, TableSchema schema, bool validateUtf8 = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(schema);
        var columns = schema.Columns;
        if (batch.ColumnCount != columns.Count)
            throw new SchemaException($"table '{schema.Name}': batch has {batch.ColumnCount} columns, the table has {columns.Count}");
        for (var i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            var field = batch.Schema.FieldsList[i];
            if (!string.Equals(field.Name, column.Name, StringComparison.Ordinal))
                throw new SchemaException($"table '{schema.Name}': batch column {i} is '{field.Name}', expected '{column.Name}'");
            var data = batch.Column(i).Data;
            if (!ArrowTypeAcceptance.Accepts(column.Type, data.DataType))
                throw new SchemaException($"table '{schema.Name}': column '{column.Name}' has Arrow type {Describe(data.DataType)}, which does not fit {column.Type}");
            if (!column.Nullable && data.NullCount != 0)
                throw new SchemaException($"table '{schema.Name}': column '{column.Name}' is NOT NULL but the batch holds {data.NullCount} null(s)");
        }
        try
        {
            TimeFusion.Arrow.ArrowStructureValidator.Validate(batch, validateUtf8);
        }
        catch (TimeFusion.Arrow.ArrowValidationException e)
        {
            throw new SchemaException($"table '{schema.Name}': {e.Message}");
        }
        return new ValidatedBatch(batch, schema);
    }

    /// <summary>
    /// Replay: accepts a batch decoded from a WAL insert entry without validating its content again when it is exactly
    /// what <see cref="Validate"/> produced before it was logged — the table's columns, in order, with their canonical
    /// Arrow types. Such a batch passed every content check (JSON, NUL characters, timestamps, dates, project, flattened
    /// attributes, UTF-8) before it was made durable, and its frame's CRC says the bytes are the ones written. Only what
    /// native code relies on not to read out of bounds is checked again: the buffers' structure (lengths, offsets inside
    /// their data: DuckDB reads them in place) and no nulls in NOT NULL columns. Returns null when the batch has another shape (logged under an older schema, e.g.
    /// before an <c>ADD COLUMN</c>, or by an older build): the caller then validates it in full, which normalizes it.
    /// </summary>
    /// <exception cref="SchemaException">A malformed array or a null in a NOT NULL column.</exception>
    public static ValidatedBatch? ValidateLogged(RecordBatch batch, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(schema);
        var columns = schema.Columns;
        var canonical = schema.ToArrowSchema();
        if (batch.ColumnCount != columns.Count || batch.Schema.FieldsList.Count != columns.Count) return null;
        for (var i = 0; i < columns.Count; i++)
        {
            var field = batch.Schema.FieldsList[i];
            if (!string.Equals(field.Name, columns[i].Name, StringComparison.Ordinal)
                || !ArrowTypeAcceptance.SameCanonicalType(batch.Column(i).Data.DataType, canonical.FieldsList[i].DataType))
                return null;
        }
        for (var i = 0; i < columns.Count; i++)
        {
            if (!columns[i].Nullable && batch.Column(i).Data.NullCount != 0)
                throw new SchemaException($"table '{schema.Name}': column '{columns[i].Name}' is NOT NULL but the batch holds {batch.Column(i).Data.NullCount} null(s)");
        }
        try
        {
            TimeFusion.Arrow.ArrowStructureValidator.Validate(batch, validateUtf8: false);
        }
        catch (TimeFusion.Arrow.ArrowValidationException e)
        {
            throw new SchemaException($"table '{schema.Name}': {e.Message}");
        }
        var columnsOut = new IArrowArray[columns.Count];
        for (var i = 0; i < columnsOut.Length; i++) columnsOut[i] = batch.Column(i);
        return new ValidatedBatch(ReferenceEquals(batch.Schema, canonical) ? batch : new RecordBatch(canonical, columnsOut, batch.Length), schema);
    }

    /// <summary>
    /// Validates a relation that has no table: a partial query result coming back from a grain, checked against its
    /// own Arrow schema before DuckDB's Arrow conversion reads it.
    /// </summary>
    /// <exception cref="TimeFusion.Arrow.ArrowValidationException">The batch is malformed.</exception>
    public static ValidatedBatch ValidateRelation(RecordBatch batch)
    {
        TimeFusion.Arrow.ArrowStructureValidator.Validate(batch);
        return new ValidatedBatch(batch, table: null);
    }

    /// <summary>A readable Arrow type name for error messages.</summary>
    public static string Describe(IArrowType type) => type switch
    {
        TimestampType t => $"timestamp[{t.Unit}, {t.Timezone ?? "no time zone"}]",
        DictionaryType d => $"dictionary<{Describe(d.IndexType)}, {Describe(d.ValueType)}>",
        ListType l => $"list<{Describe(l.ValueDataType)}>",
        _ => type.Name,
    };

    private static IArrowArray Conform(IArrowArray array, ColumnDefinition column, string table)
    {
        var actual = array.Data.DataType;
        IArrowArray? result = column.Type switch
        {
            ColumnType.Utf8 or ColumnType.Json when StringColumnConversion.IsStringLike(actual) => StringColumnConversion.ToUtf8(array),
            ColumnType.TimestampUs when actual is TimestampType t => TimestampConversion.ToMicros((TimestampArray)array, t),
            ColumnType.Utf8List when actual is ListType { ValueDataType: var v } && StringColumnConversion.IsStringLike(v) => ToStringList((ListArray)array),
            ColumnType.Boolean when actual is BooleanType => array,
            ColumnType.Int32 when actual is Int32Type => array,
            ColumnType.Int64 when actual is Int64Type => array,
            ColumnType.Float64 when actual is DoubleType => array,
            ColumnType.Date when actual is Date32Type => array,
            ColumnType.Binary when actual is BinaryType => array,
            _ => null,
        };
        return result ?? throw new BatchRejectedException(
            $"column '{column.Name}' of table '{table}' is {column.Type}; the batch sent {actual.Name}");
    }

    private static ListArray ToStringList(ListArray list)
    {
        if (list.Values is StringArray) return list;
        var values = StringColumnConversion.ToUtf8(list.Values);
        return new ListArray(ColumnTypeMapping.ToArrow(ColumnType.Utf8List), list.Length, list.ValueOffsetsBuffer, values,
            list.NullBitmapBuffer, list.NullCount, list.Offset);
    }

    private static void CheckTimestampBounds(TimestampArray ts, IngestOptions options)
    {
        var min = (options.MinTimestamp - DateTimeOffset.UnixEpoch).Ticks / 10;
        var max = (options.MaxTimestamp - DateTimeOffset.UnixEpoch).Ticks / 10;
        var values = ts.Values;
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if ((v < min || v > max) && !ts.IsNull(i))
                throw new BatchRejectedException(
                    $"row {i}: timestamp {DateTimeOffset.UnixEpoch.AddTicks(Math.Clamp(v, -62135596800000000L, 253402300799999999L) * 10):O} is outside the accepted range [{options.MinTimestamp:O}, {options.MaxTimestamp:O}]");
        }
    }

    private static Date32Array DatesOf(TimestampArray ts)
    {
        var values = ts.Values;
        var days = new ArrowBuffer.Builder<int>(values.Length);
        for (var i = 0; i < values.Length; i++) days.Append(DayOf(values[i]));
        return new Date32Array(ManagedArrowMemory.Build(days), ArrowBuffer.Empty, values.Length, 0, 0);
    }

    /// <summary>The UTC day number of a microsecond timestamp (floor division, also before 1970).</summary>
    internal static int DayOf(long micros) => (int)(micros >= 0 ? micros / MicrosPerDay : (micros - MicrosPerDay + 1) / MicrosPerDay);

    private static void CheckDates(Date32Array dates, TimestampArray ts)
    {
        var values = ts.Values;
        var d = dates.Values;
        for (var i = 0; i < values.Length; i++)
        {
            var expected = DayOf(values[i]);
            if (d[i] != expected)
                throw new BatchRejectedException(
                    $"row {i}: date {DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + d[i]):yyyy-MM-dd} is not the UTC date of its timestamp");
        }
    }

    private static void CheckProject(StringArray projects, string project)
    {
        var expected = System.Text.Encoding.UTF8.GetBytes(project);
        var offsets = projects.ValueOffsets;
        var data = projects.ValueBuffer.Span;
        var nulls = projects.NullCount > 0;
        for (var i = 0; i < projects.Length; i++)
        {
            // The spans read once, not per value as GetBytes does; a NULL compares as no bytes, as GetBytes gives it.
            var value = nulls && projects.IsNull(i) ? default : data[offsets[i]..offsets[i + 1]];
            if (!value.SequenceEqual(expected))
                throw new BatchRejectedException($"row {i}: project_id '{projects.GetString(i)}' does not match the target project '{project}'");
        }
    }

    private static StringArray ConstantString(string value, int rows)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        var data = new ArrowBuffer.Builder<byte>(bytes.Length * Math.Max(rows, 1));
        var offsets = new ArrowBuffer.Builder<int>(rows + 1);
        offsets.Append(0);
        for (var i = 0; i < rows; i++)
        {
            data.Append(bytes);
            offsets.Append((i + 1) * bytes.Length);
        }
        return new StringArray(rows, ManagedArrowMemory.Build(offsets), ManagedArrowMemory.Build(data), ArrowBuffer.Empty, 0, 0);
    }

    private static int FirstNull(IArrowArray a)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (a.IsNull(i)) return i;
        }
        return -1;
    }
}
