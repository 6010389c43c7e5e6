using System.Buffers;
using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Sql;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Statements;

/// <summary>
/// The fast path of <c>INSERT … VALUES</c>: when every value is a plain literal (a string, a number, <c>NULL</c>,
/// <c>TRUE</c>/<c>FALSE</c>), the rows are read with the one SQL lexer straight into text columns, which DuckDB then
/// casts to the table's types in one vectorized query — the same <c>CAST</c> the general path applies to each literal,
/// without serializing, rewriting and re-parsing a syntax tree of every row (a 100 k-row statement took minutes and
/// gigabytes that way). Anything else (expressions, functions, rows of different widths) returns null and takes the
/// general path, which also words the errors.
/// </summary>
public static class LiteralValuesReader
{
    /// <summary>The name the literal rows are registered under for the cast query.</summary>
    public const string RelationName = "__insert_literals";

    /// <summary>
    /// Reads <paramref name="valuesText"/> (what follows <c>VALUES</c>) into one Utf8 column per entry of
    /// <paramref name="columns"/> (the target columns, listed or all). Null when a value is not a plain literal,
    /// a row's width differs from the first row's, or a number does not fit its column as text would.
    /// </summary>
    /// <param name="valuesText">The rows: <c>(…), (…), …</c>.</param>
    /// <param name="columns">The target columns in VALUES order; the rows may be narrower (then only that many are used).</param>
    /// <param name="width">How many columns the rows hold.</param>
    public static RecordBatch? TryRead(string valuesText, IReadOnlyList<ColumnDefinition> columns, out int width)
    {
        ArgumentNullException.ThrowIfNull(valuesText);
        ArgumentNullException.ThrowIfNull(columns);
        width = -1;
        var builders = new List<StringArray.Builder>();
        var scratch = ArrayPool<byte>.Shared.Rent(256);
        try
        {
            var position = 0;
            var rows = 0;
            while (true)
            {
                if (!Next(valuesText, ref position, out var open) || !open.IsSymbolChar(valuesText, '(')) return null;
                var column = 0;
                while (true)
                {
                    if (column >= columns.Count) return null;
                    if (width < 0 && builders.Count <= column) builders.Add(new StringArray.Builder());
                    if (column >= builders.Count) return null;
                    if (!ReadValue(valuesText, ref position, columns[column].Type, builders[column], ref scratch)) return null;
                    column++;
                    if (!Next(valuesText, ref position, out var after)) return null;
                    if (after.IsSymbolChar(valuesText, ',')) continue;
                    if (after.IsSymbolChar(valuesText, ')')) break;
                    return null;
                }
                if (width < 0) width = column;
                else if (column != width) return null;
                rows++;
                if (!Next(valuesText, ref position, out var separator)) break;
                if (!separator.IsSymbolChar(valuesText, ',')) return null;
            }
            var fields = new List<Field>(width);
            var arrays = new IArrowArray[width];
            for (var i = 0; i < width; i++)
            {
                fields.Add(new Field(columns[i].Name, StringType.Default, nullable: true));
                arrays[i] = ManagedArrowMemory.Build(builders[i]);
            }
            return new RecordBatch(new Schema(fields, null), arrays, rows);
        }
        catch (SqlSyntaxException)
        {
            return null; // an unterminated string and the like: the general path words the error
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>The query that casts the literal rows to the table's types, named like the target columns.</summary>
    public static string CastSql(IReadOnlyList<ColumnDefinition> columns, int width)
    {
        var select = new StringBuilder("SELECT ");
        for (var i = 0; i < width; i++)
        {
            var name = SqlNames.Quote(columns[i].Name);
            if (i > 0) select.Append(", ");
            select.Append("CAST(").Append(name).Append(" AS ").Append(ColumnTypeMapping.ToDuckDb(columns[i].Type)).Append(") AS ").Append(name);
        }
        return select.Append(" FROM ").Append(SqlNames.Quote(RelationName)).ToString();
    }

    private static bool Next(string sql, ref int position, out SqlToken token) =>
        SqlTokenizer.Next(sql, ref position, SqlTokenizerMode.Strict, out token);

    private static bool ReadValue(string sql, ref int position, ColumnType type, StringArray.Builder builder, ref byte[] scratch)
    {
        if (!Next(sql, ref position, out var token)) return false;
        // A bound parameter arrives parenthesized — `($1)` becomes `('x')` — so `( literal )` is a literal too.
        if (token.IsSymbolChar(sql, '('))
            return ReadValue(sql, ref position, type, builder, ref scratch)
                && Next(sql, ref position, out var close) && close.IsSymbolChar(sql, ')');
        // Typed literals of a timestamptz column (what bound DateTime/DateTimeOffset/DateOnly parameters look like):
        // casting their text to TIMESTAMPTZ gives what casting the typed value does, in the same session time zone.
        if (type == ColumnType.TimestampUs && token.Kind == SqlTokenKind.Word
            && (token.IsKeyword(sql, "TIMESTAMPTZ") || token.IsKeyword(sql, "TIMESTAMP") || token.IsKeyword(sql, "DATE")))
        {
            if (!Next(sql, ref position, out token) || token.Kind != SqlTokenKind.String || sql[token.Start] != '\'') return false;
            return AppendTimestamp(sql, token, builder);
        }
        if (type == ColumnType.TimestampUs && token.Kind == SqlTokenKind.String)
            return AppendTimestamp(sql, token, builder);
        var negative = false;
        if (token.Kind == SqlTokenKind.Operator && sql[token.Start] is '-' or '+')
        {
            negative = sql[token.Start] == '-';
            if (!Next(sql, ref position, out token) || token.Kind != SqlTokenKind.Number) return false;
        }
        switch (token.Kind)
        {
            case SqlTokenKind.String:
                if (!AppendString(sql, token, builder, ref scratch)) return false;
                // `'1.5'::DOUBLE` (a bound double) into a double column: the text cast to DOUBLE is the same double.
                if (type == ColumnType.Float64 && PeekCast(sql, position, out var after, out var target) && target.IsKeyword(sql, "DOUBLE"))
                    position = after;
                return true;
            case SqlTokenKind.Number:
                return AppendNumber(sql.AsSpan(token.Start, token.Length), negative, type, builder, ref scratch);
            case SqlTokenKind.Word when token.IsKeyword(sql, "NULL"):
                builder.AppendNull();
                return true;
            case SqlTokenKind.Word when type is ColumnType.Boolean or ColumnType.Utf8 && (token.IsKeyword(sql, "TRUE") || token.IsKeyword(sql, "FALSE")):
                builder.Append(token.IsKeyword(sql, "TRUE") ? "true" : "false");
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// A timestamptz's text in the ISO form DuckDB's cast reads as PostgreSQL does (<c>10:00+00</c> gets its seconds);
    /// text without an offset is read in the session's TimeZone by the cast (InsertValuesSplitter).
    /// </summary>
    private static bool AppendTimestamp(string sql, SqlToken token, StringArray.Builder builder)
    {
        if (sql[token.Start] is 'x' or 'X' or 'b' or 'B' or 'u' or 'U') return false;
        var text = token.StringValue(sql)!;
        builder.Append(Planning.TimestampLiterals.Normalize(text, out _) ?? text);
        return true;
    }

    private static bool AppendString(string sql, SqlToken token, StringArray.Builder builder, ref byte[] scratch)
    {
        if (sql[token.Start] == '\'' && sql.AsSpan(token.Start + 1, token.Length - 2).IndexOf('\'') < 0)
        {
            Append(builder, sql.AsSpan(token.Start + 1, token.Length - 2), ref scratch);
            return true;
        }
        // Escapes, doubled quotes, dollar quoting; X'…', B'…' and U&'…' take the general path.
        if (sql[token.Start] is 'x' or 'X' or 'b' or 'B' or 'u' or 'U') return false;
        builder.Append(token.StringValue(sql));
        return true;
    }

    /// <summary>Whether `::` and a type name follow at <paramref name="position"/>; <paramref name="after"/> is past them.</summary>
    private static bool PeekCast(string sql, int position, out int after, out SqlToken target)
    {
        after = position;
        target = default;
        // The lexer gives operator characters one token each: `::` is two.
        if (!Next(sql, ref after, out var first) || !first.IsOperator(sql, ':') || !Next(sql, ref after, out var second)
            || !second.IsOperator(sql, ':') || second.Start != first.End)
            return false;
        return Next(sql, ref after, out target) && target.Kind == SqlTokenKind.Word;
    }

    /// <summary>A number as text, when casting that text gives what casting the number would.</summary>
    private static bool AppendNumber(ReadOnlySpan<char> text, bool negative, ColumnType type, StringArray.Builder builder, ref byte[] scratch)
    {
        switch (type)
        {
            case ColumnType.Int32 or ColumnType.Int64:
                // Plain digits only (1.5 and 1e3 round or convert as numbers but not as text); short enough not to overflow parsing.
                if (text.Length > 18 || text.ContainsAnyExcept("0123456789")) return false;
                break;
            case ColumnType.Float64:
                if (!double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                    return false;
                break;
            case ColumnType.Utf8:
                // 42 becomes '42', but 1.50 or 1e3 would be rendered by DuckDB's numeric types: only plain integers.
                if (text.ContainsAnyExcept("0123456789")) return false;
                break;
            default:
                return false;
        }
        Span<char> sign = ['-'];
        if (negative)
        {
            Span<char> joined = stackalloc char[text.Length + 1];
            sign.CopyTo(joined);
            text.CopyTo(joined[1..]);
            Append(builder, joined, ref scratch);
        }
        else
        {
            Append(builder, text, ref scratch);
        }
        return true;
    }

    private static void Append(StringArray.Builder builder, ReadOnlySpan<char> text, ref byte[] scratch)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (scratch.Length < max)
        {
            ArrayPool<byte>.Shared.Return(scratch);
            scratch = ArrayPool<byte>.Shared.Rent(max);
        }
        var written = Encoding.UTF8.GetBytes(text, scratch);
        builder.Append(scratch.AsSpan(0, written));
    }
}
