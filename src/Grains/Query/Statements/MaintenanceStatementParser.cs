using System.Globalization;
using System.Text.RegularExpressions;
using TimeFusion.Query.Planning;
using TimeFusion.Sql;
using TimeFusion.Wire;

namespace TimeFusion.Query.Statements;

/// <summary><c>OPTIMIZE t [WHERE …]</c>: the table, the date partitions (inclusive bounds, null = open) and the projects named.</summary>
/// <param name="Table">The table (lower-case).</param>
/// <param name="FromDate">First date partition, or null.</param>
/// <param name="ToDate">Last date partition, or null.</param>
/// <param name="Projects">Projects named by <c>project_id = …</c> / <c>IN (…)</c>, or null for every project the caller may write.</param>
public sealed record OptimizeStatement(string Table, DateOnly? FromDate, DateOnly? ToDate, IReadOnlyList<string>? Projects);

/// <summary><c>VACUUM t [RETAIN n HOURS]</c>.</summary>
/// <param name="Table">The table (lower-case).</param>
/// <param name="Retain">The window, or null for the configured one.</param>
public sealed record VacuumStatement(string Table, TimeSpan? Retain);

/// <summary><c>ALTER TABLE t SET (retention = '30 days' [, project = 'p'])</c>.</summary>
/// <param name="Table">The table (lower-case).</param>
/// <param name="Project">The project whose override is set, or null for the table-wide retention.</param>
/// <param name="Retention">The retention, or null (<c>'none'</c>) to clear it.</param>
public sealed record AlterRetentionStatement(string Table, string? Project, TimeSpan? Retention);

/// <summary>
/// Reads TimeFusion's maintenance statements with the one SQL lexer. OPTIMIZE's WHERE takes conditions joined by AND:
/// <c>date</c> comparisons (<c>=</c>, <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c>, <c>BETWEEN</c>) with date
/// literals (<c>'2026-12-01'</c>, <c>DATE '2026-12-01'</c>, <c>'2026-12-01'::date</c>); the same comparisons on
/// <c>timestamp</c> with timestamp literals (<c>'2026-12-01 10:00:00'</c>, <c>TIMESTAMP '…'</c>, <c>TIMESTAMPTZ '…+02'</c>;
/// no zone = UTC), mapped to the date partitions the range touches; and <c>project_id = 'p'</c> /
/// <c>project_id IN ('p', …)</c>. Anything else (another column, OR, NOT, parentheses, functions) is refused with 0A000.
/// Retention values: <c>'n minutes|hours|days|weeks'</c>, or <c>'none'</c> to keep everything.
/// </summary>
public static partial class MaintenanceStatementParser
{
    /// <summary>Reads <c>OPTIMIZE [TABLE] t [WHERE …]</c>.</summary>
    /// <exception cref="SqlPlanningException">42601 on bad syntax; 0A000 for a condition OPTIMIZE cannot use.</exception>
    public static OptimizeStatement ParseOptimize(string sql)
    {
        var r = new Reader(sql, "OPTIMIZE");
        var table = r.TableName();
        DateOnly? from = null, to = null;
        List<string>? projects = null;
        if (!r.AtEnd)
        {
            r.Expect("WHERE");
            do
            {
                if (r.TryKeyword("NOT") || r.TrySymbol('('))
                    throw Unsupported("OPTIMIZE's WHERE takes only conditions joined by AND on date, timestamp and project_id, not NOT or parentheses");
                var column = r.Identifier();
                if (column == "project_id")
                {
                    var named = new List<string>();
                    if (r.TryKeyword("IN"))
                    {
                        r.ExpectSymbol('(');
                        do named.Add(r.String()); while (r.TrySymbol(','));
                        r.ExpectSymbol(')');
                    }
                    else
                    {
                        r.ExpectOperator("=");
                        named.Add(r.String());
                    }
                    projects = projects is null ? named : projects.Intersect(named).ToList();
                }
                else if (column == "date")
                {
                    if (r.TryKeyword("BETWEEN"))
                    {
                        from = Max(from, r.Date());
                        r.Expect("AND");
                        to = Min(to, r.Date());
                        continue;
                    }
                    var op = r.ComparisonOperator();
                    var day = r.Date();
                    switch (op)
                    {
                        case "=": from = Max(from, day); to = Min(to, day); break;
                        case ">=": from = Max(from, day); break;
                        case ">": from = Max(from, day.AddDays(1)); break;
                        case "<=": to = Min(to, day); break;
                        case "<": to = Min(to, day.AddDays(-1)); break;
                        default: throw Unsupported($"OPTIMIZE's WHERE cannot use '{op}'");
                    }
                }
                else if (column == "timestamp")
                {
                    // A timestamp range selects the date partitions it touches (OPTIMIZE rewrites whole partitions).
                    if (r.TryKeyword("BETWEEN"))
                    {
                        from = Max(from, DayOf(r.Timestamp()));
                        r.Expect("AND");
                        to = Min(to, DayOf(r.Timestamp()));
                        continue;
                    }
                    var op = r.ComparisonOperator();
                    var at = r.Timestamp();
                    switch (op)
                    {
                        case "=": from = Max(from, DayOf(at)); to = Min(to, DayOf(at)); break;
                        case ">=" or ">": from = Max(from, DayOf(at)); break;
                        case "<=": to = Min(to, DayOf(at)); break;
                        case "<": to = Min(to, DayOf(at.AddTicks(-1))); break;
                        default: throw Unsupported($"OPTIMIZE's WHERE cannot use '{op}'");
                    }
                }
                else
                {
                    throw Unsupported($"OPTIMIZE's WHERE may name only date, timestamp and project_id, not \"{column}\"");
                }
            } while (r.TryKeyword("AND"));
            if (r.TryKeyword("OR"))
                throw Unsupported("OPTIMIZE's WHERE takes only conditions joined by AND, not OR");
            r.ExpectEnd();
        }
        return new OptimizeStatement(table, from, to, projects);
    }

    /// <summary>Reads <c>VACUUM [TABLE] t [RETAIN n HOURS]</c>.</summary>
    /// <exception cref="SqlPlanningException">42601 on bad syntax.</exception>
    public static VacuumStatement ParseVacuum(string sql)
    {
        var r = new Reader(sql, "VACUUM");
        var table = r.TableName();
        TimeSpan? retain = null;
        if (r.TryKeyword("RETAIN"))
        {
            var hours = r.Number();
            r.Expect("HOURS");
            retain = TimeSpan.FromHours(hours);
        }
        r.ExpectEnd();
        return new VacuumStatement(table, retain);
    }

    /// <summary>Whether <paramref name="sql"/> (an ALTER) is <c>ALTER TABLE t SET|RESET (…)</c>, the only ALTER we run.</summary>
    public static bool IsAlterTableOptions(string sql, IReadOnlyList<SqlToken> tokens)
    {
        if (tokens.Count < 5 || !tokens[1].IsKeyword(sql, "TABLE")) return false;
        for (var i = 2; i + 1 < tokens.Count; i++)
        {
            if ((tokens[i].IsKeyword(sql, "SET") || tokens[i].IsKeyword(sql, "RESET")) && tokens[i + 1].IsSymbolChar(sql, '(')) return true;
        }
        return false;
    }

    /// <summary>Reads <c>ALTER TABLE t SET (retention = '…' [, project = 'p'])</c> or <c>ALTER TABLE t RESET (retention [, …])</c>.</summary>
    /// <exception cref="SqlPlanningException">42601 on bad syntax; 0A000 for another option; 22023 for a bad retention.</exception>
    public static AlterRetentionStatement ParseAlterRetention(string sql)
    {
        var r = new Reader(sql, "ALTER");
        r.Expect("TABLE");
        var table = r.TableName();
        var reset = r.TryKeyword("RESET");
        if (!reset) r.Expect("SET");
        r.ExpectSymbol('(');
        string? project = null;
        TimeSpan? retention = null;
        var sawRetention = false;
        do
        {
            var option = r.Identifier();
            string? value = null;
            if (!reset || option == "project")
            {
                r.ExpectOperator("=");
                value = r.String();
            }
            switch (option)
            {
                case "retention":
                    sawRetention = true;
                    retention = reset ? null : ParseRetention(value!);
                    break;
                case "project":
                    project = value;
                    break;
                default:
                    throw Unsupported($"ALTER TABLE … SET supports the options retention and project, not \"{option}\"");
            }
        } while (r.TrySymbol(','));
        r.ExpectSymbol(')');
        r.ExpectEnd();
        if (!sawRetention) throw new SqlPlanningException(SqlState.SyntaxError, "ALTER TABLE … SET needs a retention option");
        return new AlterRetentionStatement(table, project, retention);
    }

    /// <summary>Parses a retention value: <c>'30 days'</c>, <c>'12 hours'</c>, <c>'2 weeks'</c>, <c>'90 minutes'</c>; <c>'none'</c> is null.</summary>
    /// <exception cref="SqlPlanningException">22023 for anything else, or a value that is not positive.</exception>
    public static TimeSpan? ParseRetention(string value)
    {
        if (value.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        var m = RetentionPattern().Match(value);
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 100_000)
            throw new SqlPlanningException(SqlState.InvalidParameterValue,
                $"invalid retention '{value}': expected a positive number of minutes, hours, days or weeks (e.g. '30 days'), or 'none'");
        return m.Groups[2].Value.ToLowerInvariant() switch
        {
            "minute" => TimeSpan.FromMinutes(n),
            "hour" => TimeSpan.FromHours(n),
            "day" => TimeSpan.FromDays(n),
            _ => TimeSpan.FromDays(7 * n),
        };
    }

    [GeneratedRegex(@"^\s*(\d+)\s*(minute|hour|day|week)s?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RetentionPattern();

    private static DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);

    private static DateOnly? Max(DateOnly? a, DateOnly b) => a is { } x && x > b ? x : b;
    private static DateOnly? Min(DateOnly? a, DateOnly b) => a is { } x && x < b ? x : b;

    private static SqlPlanningException Unsupported(string message) => new(SqlState.FeatureNotSupported, message);

    /// <summary>A cursor over the statement's tokens.</summary>
    internal sealed class Reader
    {
        private readonly string _sql;
        private readonly List<SqlToken> _tokens;
        private readonly string _statement;
        private int _i;

        public Reader(string sql, string keyword)
        {
            _sql = sql;
            _tokens = PlanningTokens.Tokenize(sql).Where(t => t.Kind != SqlTokenKind.Semicolon).ToList();
            _statement = keyword;
            Expect(keyword);
        }

        public bool AtEnd => _i >= _tokens.Count;

        /// <summary>Where the next token starts in the statement (its length at the end).</summary>
        public int Position => AtEnd ? _sql.Length : _tokens[_i].Start;

        /// <summary>The next token's text, or null at the end.</summary>
        public string? Peek => AtEnd ? null : _tokens[_i].Text(_sql);

        private SqlPlanningException Error(string expected) => new(SqlState.SyntaxError, AtEnd
            ? $"syntax error at end of input: {_statement} expected {expected}"
            : $"syntax error at or near \"{_tokens[_i].Text(_sql)}\": {_statement} expected {expected}");

        public bool TryKeyword(string keyword)
        {
            if (AtEnd || !_tokens[_i].IsKeyword(_sql, keyword)) return false;
            _i++;
            return true;
        }

        public void Expect(string keyword)
        {
            if (!TryKeyword(keyword)) throw Error(keyword);
        }

        public bool TrySymbol(char c)
        {
            if (AtEnd || !_tokens[_i].IsSymbolChar(_sql, c)) return false;
            _i++;
            return true;
        }

        public void ExpectSymbol(char c)
        {
            if (!TrySymbol(c)) throw Error($"'{c}'");
        }

        public void ExpectOperator(string op)
        {
            if (ComparisonOperator() != op) throw Error($"'{op}'");
        }

        public string ComparisonOperator()
        {
            var op = "";
            while (!AtEnd && _tokens[_i].Kind == SqlTokenKind.Operator && op.Length < 2 && _sql[_tokens[_i].Start] is '<' or '>' or '=' or '!')
                op += _sql[_tokens[_i++].Start];
            if (op.Length == 0) throw Error("a comparison operator");
            return op;
        }

        public void ExpectEnd()
        {
            if (!AtEnd) throw Error("the end of the statement");
        }

        public string Identifier()
        {
            if (AtEnd || _tokens[_i].FoldedIdentifier(_sql) is not { } name) throw Error("a name");
            _i++;
            return name;
        }

        /// <summary>A table name, optionally qualified by <c>public</c> or <c>main</c> (and an optional leading <c>TABLE</c>).</summary>
        public string TableName()
        {
            if (_i + 1 < _tokens.Count && _tokens[_i].IsKeyword(_sql, "TABLE") && _tokens[_i + 1].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
                _i++;
            var name = Identifier();
            if (TrySymbol('.'))
            {
                if (name is not ("public" or "main"))
                    throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{name}.{(AtEnd ? "" : _tokens[_i].Text(_sql))}\" does not exist");
                name = Identifier();
            }
            return name;
        }

        public string String()
        {
            if (AtEnd || _tokens[_i].StringValue(_sql) is not { } value) throw Error("a string literal");
            _i++;
            return value;
        }

        public double Number()
        {
            if (AtEnd || _tokens[_i].Kind != SqlTokenKind.Number
                || !double.TryParse(_tokens[_i].Text(_sql), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || n > 1_000_000)
                throw Error("a number of hours");
            _i++;
            return n;
        }

        /// <summary>A timestamp literal (<c>'…'</c>, <c>TIMESTAMP '…'</c>, <c>TIMESTAMPTZ '…'</c>, <c>'…'::timestamp[tz]</c>); no zone is UTC.</summary>
        public DateTimeOffset Timestamp()
        {
            if (!TryKeyword("TIMESTAMPTZ") && TryKeyword("TIMESTAMP") && TryKeyword("WITH")) { Expect("TIME"); Expect("ZONE"); }
            var text = String();
            if (TrySymbol(':'))
            {
                ExpectSymbol(':');
                if (!TryKeyword("TIMESTAMPTZ")) Expect("TIMESTAMP");
            }
            if (!DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var at))
                throw new SqlPlanningException(SqlState.InvalidDatetimeFormat, $"invalid timestamp '{text}': expected YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][+zone]");
            return at;
        }

        public DateOnly Date()
        {
            TryKeyword("DATE");
            var text = String();
            if (TrySymbol(':')) { ExpectSymbol(':'); Expect("DATE"); }
            if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                throw new SqlPlanningException(SqlState.InvalidDatetimeFormat, $"invalid date '{text}': expected YYYY-MM-DD");
            return day;
        }
    }
}
