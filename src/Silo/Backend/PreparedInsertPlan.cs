using System.Runtime.InteropServices;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Grains;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Sql;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// The plan of a prepared <c>INSERT INTO t (c1, …) VALUES ($1, …), (…)</c>, made once per statement text: the target
/// table, the column order and which parameter (or <c>NULL</c>) fills each cell. Executing it builds the Arrow columns
/// straight from the bound parameter values — no SQL text substitution, no parse, no catalog call, no DuckDB cast.
/// </summary>
/// <remarks>
/// Only what gives exactly the rows the general path (parameters substituted as literals, cast by DuckDB to the column
/// types) would give is taken: a value of its column's own kind (text → text/JSON, integers → integer columns in range,
/// doubles → double, bool → boolean, UTC timestamps → timestamp, bytes → bytea, text arrays → text[]) or NULL. Anything
/// else — another statement shape, a parameter of another type, a wrong parameter count, a NUL character — makes
/// <see cref="TryCreate"/> or <see cref="TryBuild"/> answer no, and the statement takes the general path, which words
/// every error as before. Row checks the table grain makes for every batch (JSON, NOT NULL, timestamp bounds) apply as
/// they do on the general path.
/// </remarks>
internal sealed class PreparedInsertPlan
{
    private const long UnixEpochMicros = 62_135_596_800_000_000L; // DateTime.UnixEpoch.Ticks / 10

    private readonly Field[] _fields;
    private readonly ColumnType[] _types;
    private readonly int[] _cells; // row-major; 0 = NULL, n = parameter $n
    private readonly int _rows;

    private PreparedInsertPlan(string table, Field[] fields, ColumnType[] types, int[] cells, int rows, int parameters, int projectColumn)
    {
        Table = table;
        _fields = fields;
        _types = types;
        _cells = cells;
        _rows = rows;
        ParameterCount = parameters;
        ProjectColumn = projectColumn;
        Schema = new Schema(fields, null);
    }

    /// <summary>The target table (catalog spelling).</summary>
    public string Table { get; }

    /// <summary>How many parameters the statement takes (the highest <c>$n</c>).</summary>
    public int ParameterCount { get; }

    /// <summary>The listed column that is <c>project_id</c>, or -1 (the rows go to the caller's default project).</summary>
    public int ProjectColumn { get; }

    /// <summary>The batch's schema: the listed columns, typed as the table holds them.</summary>
    public Schema Schema { get; }

    /// <summary>
    /// The plan of <paramref name="sql"/>, or null when it is not a plain parameterized INSERT this plan takes (then the
    /// general path runs it). <paramref name="findTable"/> looks a table up by name (case-insensitive).
    /// </summary>
    public static PreparedInsertPlan? TryCreate(string sql, Func<string, TableDefinition?> findTable)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(findTable);
        List<SqlToken> tokens;
        try { tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Strict); }
        catch (SqlSyntaxException) { return null; }
        var at = 0;
        bool Keyword(string word) => at < tokens.Count && tokens[at].Kind == SqlTokenKind.Word && tokens[at].IsKeyword(sql, word) && ++at > 0;
        bool Symbol(char c) => at < tokens.Count && tokens[at].IsSymbolChar(sql, c) && ++at > 0;
        string? Name()
        {
            if (at >= tokens.Count || tokens[at].Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)) return null;
            return tokens[at++].FoldedIdentifier(sql);
        }

        if (!Keyword("INSERT") || !Keyword("INTO")) return null;
        var name = Name();
        if (name is null) return null;
        if (at < tokens.Count && tokens[at].Kind == SqlTokenKind.Dot)
        {
            if (name.ToLowerInvariant() is not ("public" or "main")) return null;
            at++;
            name = Name();
            if (name is null) return null;
        }
        var definition = findTable(name);
        if (definition is null) return null;

        // A column list is required: positional rows take the general path (it knows which columns they fill).
        if (!Symbol('(')) return null;
        var columns = new List<ColumnDefinition>();
        do
        {
            var column = Name();
            var def = column is null ? null : definition.Columns.FirstOrDefault(c => string.Equals(c.Name, column, StringComparison.OrdinalIgnoreCase));
            if (def is null || columns.Contains(def)) return null;
            columns.Add(def);
        }
        while (Symbol(','));
        if (!Symbol(')') || !Keyword("VALUES")) return null;

        var cells = new List<int>();
        var rows = 0;
        var highest = 0;
        do
        {
            if (!Symbol('(')) return null;
            var width = 0;
            do
            {
                if (at >= tokens.Count) return null;
                var token = tokens[at++];
                if (token.Kind == SqlTokenKind.Word && token.IsKeyword(sql, "NULL"))
                {
                    cells.Add(0);
                }
                else if (token.IsPositionalParameter(sql) && int.TryParse(sql.AsSpan(token.Start + 1, token.Length - 1),
                             System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1)
                {
                    cells.Add(n);
                    highest = Math.Max(highest, n);
                }
                else
                {
                    return null;
                }
                width++;
            }
            while (Symbol(','));
            if (!Symbol(')') || width != columns.Count) return null;
            rows++;
        }
        while (Symbol(','));
        Symbol(';');
        if (at != tokens.Count || highest == 0) return null;

        var arrow = TableSchema.Create(definition.Name, definition.Columns).ToArrowSchema();
        var fields = columns.Select(c => arrow.GetFieldByName(c.Name)).ToArray();
        var projectColumn = columns.FindIndex(c => c.Name == TableSchema.ProjectColumn);
        return new PreparedInsertPlan(definition.Name, fields, columns.Select(c => c.Type).ToArray(), cells.ToArray(), rows, highest, projectColumn);
    }

    /// <summary>
    /// The rows of one execution as an Arrow batch in <see cref="Schema"/>, or null when a value is not one this plan
    /// converts exactly (or the parameter count differs): then the general path runs the statement.
    /// </summary>
    public RecordBatch? TryBuild(IReadOnlyList<object?> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count != ParameterCount) return null;
        var width = _fields.Length;
        var arrays = new IArrowArray[width];
        for (var c = 0; c < width; c++)
        {
            var array = BuildColumn(c, parameters);
            if (array is null)
            {
                for (var d = 0; d < c; d++) arrays[d].Dispose();
                return null;
            }
            arrays[c] = array;
        }
        return new RecordBatch(Schema, arrays, _rows);
    }

    private object? Value(int row, int column, IReadOnlyList<object?> parameters)
    {
        var cell = _cells[row * _fields.Length + column];
        return cell == 0 ? null : parameters[cell - 1] is DBNull ? null : parameters[cell - 1];
    }

    private IArrowArray? BuildColumn(int column, IReadOnlyList<object?> parameters) => _types[column] switch
    {
        ColumnType.Utf8 or ColumnType.Json => Strings(column, parameters),
        ColumnType.Int64 => Int64s(column, parameters),
        ColumnType.Int32 => Int32s(column, parameters),
        ColumnType.Float64 => Doubles(column, parameters),
        ColumnType.Boolean => Booleans(column, parameters),
        ColumnType.TimestampUs => Timestamps(column, parameters),
        ColumnType.Date => Dates(column, parameters),
        ColumnType.Binary => Binaries(column, parameters),
        ColumnType.Utf8List => StringLists(column, parameters),
        _ => null,
    };

    private StringArray? Strings(int column, IReadOnlyList<object?> parameters)
    {
        // Two passes over the cells into buffers of the exact size: the first checks every value and sums its UTF-8
        // bytes, the second writes them. Text that came as UTF-8 (BoundParameters) is copied as it is, never made a string.
        var raw = parameters as BoundParameters;
        var offsets = new byte[(_rows + 1) * sizeof(int)];
        var ends = MemoryMarshal.Cast<byte, int>(offsets.AsSpan());
        var validity = new byte[(_rows + 7) / 8];
        var nulls = 0;
        long bytes = 0;
        for (var r = 0; r < _rows; r++)
        {
            var cell = _cells[r * _fields.Length + column];
            if (cell != 0 && raw is not null && raw.TryGetUtf8(cell - 1, out var utf8))
            {
                // PostgreSQL refuses NUL in text with 22021; the general path says so in its words.
                if (utf8.Contains((byte)0)) return null;
                bytes += utf8.Length;
            }
            else
            {
                switch (Value(r, column, parameters))
                {
                    case null: nulls++; ends[r + 1] = (int)bytes; continue;
                    case string s when !s.Contains('\0'): bytes += Encoding.UTF8.GetByteCount(s); break;
                    default: return null;
                }
            }
            if (bytes > int.MaxValue) return null;
            BitUtility.SetBit(validity, r);
            ends[r + 1] = (int)bytes;
        }
        var data = bytes == 0 ? [] : new byte[bytes];
        for (var r = 0; r < _rows; r++)
        {
            if (!BitUtility.GetBit(validity, r)) continue;
            var cell = _cells[r * _fields.Length + column];
            var target = data.AsSpan(ends[r], ends[r + 1] - ends[r]);
            if (raw is not null && raw.TryGetUtf8(cell - 1, out var utf8)) utf8.CopyTo(target);
            else Encoding.UTF8.GetBytes((string)Value(r, column, parameters)!, target);
        }
        return new StringArray(_rows, new ArrowBuffer(offsets), new ArrowBuffer(data), nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity), nulls, 0);
    }

    private Int64Array? Int64s(int column, IReadOnlyList<object?> parameters)
    {
        var builder = new Int64Array.Builder().Reserve(_rows);
        for (var r = 0; r < _rows; r++)
        {
            var value = Value(r, column, parameters);
            if (value is null) builder.AppendNull();
            else if (Integer(value) is { } n) builder.Append(n);
            else return null;
        }
        return ManagedArrowMemory.Build(builder);
    }

    private Int32Array? Int32s(int column, IReadOnlyList<object?> parameters)
    {
        var builder = new Int32Array.Builder().Reserve(_rows);
        for (var r = 0; r < _rows; r++)
        {
            var value = Value(r, column, parameters);
            if (value is null) builder.AppendNull();
            // Out of range: the general path's cast refuses it (22003).
            else if (Integer(value) is { } n && n is >= int.MinValue and <= int.MaxValue) builder.Append((int)n);
            else return null;
        }
        return ManagedArrowMemory.Build(builder);
    }

    private static long? Integer(object value) => value switch
    {
        long l => l,
        int i => i,
        short s => s,
        sbyte b => b,
        byte b => b,
        ushort u => u,
        uint u => u,
        ulong u when u <= long.MaxValue => (long)u,
        _ => null,
    };

    private DoubleArray? Doubles(int column, IReadOnlyList<object?> parameters)
    {
        var builder = new DoubleArray.Builder().Reserve(_rows);
        for (var r = 0; r < _rows; r++)
        {
            switch (Value(r, column, parameters))
            {
                case null: builder.AppendNull(); break;
                case double d: builder.Append(d); break;
                case float f: builder.Append(f); break; // the general path renders a float as the same double
                // Integers of at most 32 bits are exact as doubles, as the general path's cast makes them.
                case int i: builder.Append(i); break;
                case short s: builder.Append(s); break;
                default: return null;
            }
        }
        return ManagedArrowMemory.Build(builder);
    }

    private BooleanArray? Booleans(int column, IReadOnlyList<object?> parameters)
    {
        var builder = new BooleanArray.Builder().Reserve(_rows);
        for (var r = 0; r < _rows; r++)
        {
            switch (Value(r, column, parameters))
            {
                case null: builder.AppendNull(); break;
                case bool b: builder.Append(b); break;
                default: return null;
            }
        }
        return ManagedArrowMemory.Build(builder);
    }

    private TimestampArray? Timestamps(int column, IReadOnlyList<object?> parameters)
    {
        var type = (TimestampType)_fields[column].DataType;
        var values = new ArrowBuffer.Builder<long>(_rows);
        var validity = new ArrowBuffer.BitmapBuilder(_rows);
        var nulls = 0;
        for (var r = 0; r < _rows; r++)
        {
            // The general path renders microseconds, truncated (format "ffffff"): ticks / 10 floors for every instant.
            long micros;
            var valid = true;
            switch (Value(r, column, parameters))
            {
                case null: micros = 0; valid = false; nulls++; break;
                case DateTime t when t.Kind == DateTimeKind.Utc: micros = t.Ticks / 10 - UnixEpochMicros; break;
                case DateTimeOffset t: micros = t.UtcTicks / 10 - UnixEpochMicros; break;
                default: return null; // local or unspecified times are read in the session's time zone: the general path
            }
            values.Append(micros);
            validity.Append(valid);
        }
        return new TimestampArray(type, ManagedArrowMemory.Build(values), nulls == 0 ? ArrowBuffer.Empty : ManagedArrowMemory.Build(validity), _rows, nulls, 0);
    }

    private Date32Array? Dates(int column, IReadOnlyList<object?> parameters)
    {
        var builder = new Date32Array.Builder().Reserve(_rows);
        for (var r = 0; r < _rows; r++)
        {
            switch (Value(r, column, parameters))
            {
                case null: builder.AppendNull(); break;
                case DateOnly d: builder.Append(d); break;
                default: return null;
            }
        }
        return ManagedArrowMemory.Build(builder);
    }

    private BinaryArray? Binaries(int column, IReadOnlyList<object?> parameters)
    {
        var builder = new BinaryArray.Builder().Reserve(_rows);
        for (var r = 0; r < _rows; r++)
        {
            switch (Value(r, column, parameters))
            {
                case null: builder.AppendNull(); break;
                case byte[] b: builder.Append((ReadOnlySpan<byte>)b); break;
                default: return null;
            }
        }
        return ManagedArrowMemory.Build(builder);
    }

    private ListArray? StringLists(int column, IReadOnlyList<object?> parameters)
    {
        var builder = new ListArray.Builder(StringType.Default);
        var items = (StringArray.Builder)builder.ValueBuilder;
        for (var r = 0; r < _rows; r++)
        {
            switch (Value(r, column, parameters))
            {
                case null:
                    builder.AppendNull();
                    break;
                // text[] parameters arrive as string arrays; PostgreSQL array text in a plain text parameter does not.
                case string[] list:
                    builder.Append();
                    foreach (var item in list)
                    {
                        if (item is null) items.AppendNull();
                        else if (item.Contains('\0')) return null;
                        else items.Append(item);
                    }
                    break;
                default:
                    return null;
            }
        }
        return ManagedArrowMemory.Build(builder);
    }
}
