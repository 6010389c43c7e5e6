using System.Text;
using TimeFusion.Sql;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Sql;

/// <summary>
/// Recognises the statements the protocol layer answers itself (session settings, COPY to/from the client,
/// DISCARD ALL, DEALLOCATE) and reads their arguments; everything else goes to the backend untouched.
/// </summary>
internal static partial class StatementClassifier
{
    public static ClassifiedStatement Classify(string sql)
    {
        var pos = 0;
        if (!SqlTokenizer.Next(sql, ref pos, SqlTokenizerMode.Lenient, out var first))
        {
            return new ClassifiedStatement { Kind = StatementKind.Empty, Sql = sql };
        }
        var verb = Keyword(sql, first);
        switch (verb)
        {
            case "SET":
            case "RESET":
            case "SHOW":
            case "COPY":
            case "DISCARD":
            case "DEALLOCATE":
            case "PREPARE":
            case "EXECUTE":
            case "DECLARE":
            case "FETCH":
            case "CLOSE":
            case "UNLISTEN":
                break;
            default:
                return new ClassifiedStatement { Kind = StatementKind.Other, Sql = sql, Verb = verb };
        }
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        var r = new TokenReader(sql, tokens, 1);
        try
        {
            return verb switch
            {
                "SET" => ParseSet(sql, r),
                "RESET" => ParseReset(sql, r),
                "SHOW" => ParseShow(sql, r),
                "COPY" => ParseCopy(sql, r),
                "DISCARD" => ParseDiscard(sql, r),
                "UNLISTEN" => !r.AtEnd && (r.IsPunct('*') || r.Current.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier) && r.AtEndAfter(1)
                    ? Acknowledge(sql, verb, "UNLISTEN")
                    : throw new SyntaxException(),
                "DEALLOCATE" => ParseDeallocate(sql, r),
                "PREPARE" => ParsePrepare(sql, r),
                "EXECUTE" => ParseExecute(sql, r),
                "DECLARE" => ParseDeclare(sql, r),
                "FETCH" => ParseFetch(sql, r),
                "CLOSE" => ParseClose(sql, r),
                _ => Other(sql, verb),
            };
        }
        catch (SyntaxException)
        {
            // Let the backend produce its own syntax error for anything we cannot read.
            return Other(sql, verb);
        }
    }

    /// <summary>
    /// The first keyword of a statement the protocol did not split itself (the query of <c>COPY (query) TO</c>), read
    /// as <see cref="Classify"/> reads it.
    /// </summary>
    public static string FirstKeyword(string sql)
    {
        var pos = 0;
        return SqlTokenizer.Next(sql, ref pos, SqlTokenizerMode.Lenient, out var first) ? Keyword(sql, first) : "";
    }

    private static string Keyword(string sql, SqlToken first) =>
        first.Kind == SqlTokenKind.Word ? first.Text(sql).ToUpperInvariant()
        : first.IsSymbolChar(sql, '(') ? "("
        : "";

    private static ClassifiedStatement Other(string sql, string verb) => new() { Kind = StatementKind.Other, Sql = sql, Verb = verb };

    private static ClassifiedStatement Acknowledge(string sql, string verb, string tag) =>
        new() { Kind = StatementKind.Acknowledge, Sql = sql, Verb = verb, Name = tag };

    /// <summary>DISCARD ALL resets the session; PLANS, SEQUENCES and TEMP have nothing to discard here (no plan cache, sequences or temporary tables).</summary>
    private static ClassifiedStatement ParseDiscard(string sql, TokenReader r)
    {
        if (!r.AtEndAfter(1)) return Other(sql, "DISCARD");
        if (r.IsWord("ALL")) return new ClassifiedStatement { Kind = StatementKind.DiscardAll, Sql = sql, Verb = "DISCARD" };
        if (r.IsWord("PLANS")) return Acknowledge(sql, "DISCARD", "DISCARD PLANS");
        if (r.IsWord("SEQUENCES")) return Acknowledge(sql, "DISCARD", "DISCARD SEQUENCES");
        if (r.IsWord("TEMP") || r.IsWord("TEMPORARY")) return Acknowledge(sql, "DISCARD", "DISCARD TEMP");
        return Other(sql, "DISCARD");
    }

    private static ClassifiedStatement ParseSet(string sql, TokenReader r)
    {
        if (r.IsWord("SESSION") && r.IsWordAt(1, "AUTHORIZATION"))
        {
            r.Advance();
            r.Advance();
            if (r.AtEnd || !r.AtEndAfter(1)) throw new SyntaxException();
            var user = r.IsWord("DEFAULT") ? null
                : r.Current.Kind switch
                {
                    SqlTokenKind.String => r.Current.StringValue(sql),
                    SqlTokenKind.QuotedIdentifier or SqlTokenKind.Word => r.Current.FoldedIdentifier(sql),
                    _ => throw new SyntaxException(),
                };
            return new ClassifiedStatement { Kind = StatementKind.SetSessionAuthorization, Sql = sql, Verb = "SET", Value = user };
        }
        if (r.IsWord("SESSION") && !r.IsWordAt(1, "AUTHORIZATION") && !r.IsWordAt(1, "CHARACTERISTICS"))
        {
            r.Advance();
        }
        else if (r.IsWord("LOCAL"))
        {
            r.Advance();
        }
        string name;
        if (r.IsWord("TIME") && r.IsWordAt(1, "ZONE"))
        {
            r.Advance();
            r.Advance();
            name = "timezone";
        }
        else
        {
            if (r.IsWord("TRANSACTION") || r.IsWord("ROLE") || r.IsWord("SESSION") || r.IsWord("CONSTRAINTS"))
            {
                return Other(sql, "SET");
            }
            name = r.ReadQualifiedName();
            if (!r.IsWord("TO") && !r.IsPunct('='))
            {
                throw new SyntaxException();
            }
            r.Advance();
        }
        var value = ReadValueList(r);
        return new ClassifiedStatement { Kind = StatementKind.Set, Sql = sql, Verb = "SET", Name = name, Value = value };
    }

    private static string? ReadValueList(TokenReader r)
    {
        if (r.IsWord("DEFAULT") && r.AtEndAfter(1))
        {
            return null;
        }
        if (r.IsWord("LOCAL") && r.AtEndAfter(1))
        {
            return null; // SET TIME ZONE LOCAL
        }
        var parts = new List<string>();
        while (true)
        {
            var sb = new StringBuilder();
            if (r.IsPunct('-') || r.IsPunct('+'))
            {
                sb.Append(r.Sql[r.Current.Start]);
                r.Advance();
            }
            if (r.AtEnd)
            {
                throw new SyntaxException();
            }
            var t = r.Current;
            switch (t.Kind)
            {
                case SqlTokenKind.String:
                    sb.Append(t.StringValue(r.Sql));
                    break;
                case SqlTokenKind.Number:
                case SqlTokenKind.Word:
                    sb.Append(t.Text(r.Sql));
                    break;
                case SqlTokenKind.QuotedIdentifier:
                    sb.Append(t.FoldedIdentifier(r.Sql));
                    break;
                default:
                    throw new SyntaxException();
            }
            r.Advance();
            // INTERVAL '…' style or unit suffixes are not GUC syntax; anything else but a comma ends the list.
            parts.Add(sb.ToString());
            if (r.AtEnd)
            {
                break;
            }
            if (!r.IsPunct(','))
            {
                throw new SyntaxException();
            }
            r.Advance();
        }
        return string.Join(", ", parts);
    }

    private static ClassifiedStatement ParseReset(string sql, TokenReader r)
    {
        string name;
        if (r.IsWord("ALL"))
        {
            r.Advance();
            name = "all";
        }
        else if (r.IsWord("TIME") && r.IsWordAt(1, "ZONE"))
        {
            r.Advance();
            r.Advance();
            name = "timezone";
        }
        else
        {
            if (r.IsWord("SESSION") && r.IsWordAt(1, "AUTHORIZATION") && r.AtEndAfter(2))
            {
                return Acknowledge(sql, "RESET", "RESET");
            }
            if (r.IsWord("SESSION") || r.IsWord("ROLE"))
            {
                return Other(sql, "RESET");
            }
            name = r.ReadQualifiedName();
        }
        if (!r.AtEnd)
        {
            throw new SyntaxException();
        }
        return new ClassifiedStatement { Kind = StatementKind.Reset, Sql = sql, Verb = "RESET", Name = name };
    }

    private static ClassifiedStatement ParseShow(string sql, TokenReader r)
    {
        string name;
        if (r.IsWord("TIME") && r.IsWordAt(1, "ZONE"))
        {
            r.Advance();
            r.Advance();
            name = "timezone";
        }
        else if (r.IsWord("TRANSACTION") && r.IsWordAt(1, "ISOLATION") && r.IsWordAt(2, "LEVEL"))
        {
            r.Advance();
            r.Advance();
            r.Advance();
            name = "transaction_isolation";
        }
        else if (r.IsWord("TRANSACTION") || r.IsWord("SESSION"))
        {
            return Other(sql, "SHOW");
        }
        else
        {
            name = r.ReadQualifiedName();
        }
        if (!r.AtEnd)
        {
            throw new SyntaxException();
        }
        return new ClassifiedStatement { Kind = StatementKind.Show, Sql = sql, Verb = "SHOW", Name = name };
    }

    private static ClassifiedStatement ParseDeallocate(string sql, TokenReader r)
    {
        if (r.IsWord("PREPARE"))
        {
            r.Advance();
        }
        var name = r.IsWord("ALL") ? "all" : r.ReadIdentifier();
        if (name == "all")
        {
            r.Advance();
        }
        if (!r.AtEnd)
        {
            throw new SyntaxException();
        }
        return new ClassifiedStatement { Kind = StatementKind.Deallocate, Sql = sql, Verb = "DEALLOCATE", Name = name };
    }

    private static ClassifiedStatement ParseCopy(string sql, TokenReader r)
    {
        var legacyBinary = false;
        if (r.IsWord("BINARY"))
        {
            legacyBinary = true;
            r.Advance();
        }
        string? table = null;
        string? query = null;
        List<string>? columns = null;
        string? columnsText = null;
        if (r.IsPunct('('))
        {
            // COPY (query) TO STDOUT
            var open = r.Current;
            var depth = 0;
            var closeIndex = -1;
            for (var i = r.Index; i < r.Count; i++)
            {
                var t = r.At(i);
                if (t.IsSymbolChar(r.Sql, '('))
                {
                    depth++;
                }
                else if (t.IsSymbolChar(r.Sql, ')'))
                {
                    depth--;
                    if (depth == 0)
                    {
                        closeIndex = i;
                        break;
                    }
                }
            }
            if (closeIndex < 0)
            {
                throw new SyntaxException();
            }
            query = r.Sql[(open.End)..r.At(closeIndex).Start].Trim();
            r.Seek(closeIndex + 1);
        }
        else
        {
            var start = r.Current.Start;
            r.ReadQualifiedName();
            table = r.Sql[start..r.Previous.End];
            if (r.IsPunct('('))
            {
                var listStart = r.Current.Start;
                r.Advance();
                columns = [];
                while (true)
                {
                    columns.Add(r.ReadIdentifier());
                    if (r.IsPunct(','))
                    {
                        r.Advance();
                        continue;
                    }
                    if (!r.IsPunct(')'))
                    {
                        throw new SyntaxException();
                    }
                    columnsText = r.Sql[listStart..r.Current.End];
                    r.Advance();
                    break;
                }
            }
        }
        bool from;
        if (r.IsWord("FROM"))
        {
            from = true;
        }
        else if (r.IsWord("TO"))
        {
            from = false;
        }
        else
        {
            throw new SyntaxException();
        }
        r.Advance();
        if (from && query is not null)
        {
            throw new SyntaxException();
        }
        if (!(from ? r.IsWord("STDIN") : r.IsWord("STDOUT")))
        {
            // COPY from/to a server-side file or program: the backend decides.
            return Other(sql, "COPY");
        }
        r.Advance();
        var copy = new CopyStatement { From = from, Table = table, Query = query, Columns = columns, ColumnsText = columnsText };
        if (legacyBinary)
        {
            copy.Format = CopyFormat.Binary;
        }
        if (r.IsWord("WITH"))
        {
            r.Advance();
        }
        if (r.IsPunct('('))
        {
            r.Advance();
            ParseOptionList(r, copy);
        }
        else
        {
            ParseLegacyOptions(r, copy);
        }
        if (!r.AtEnd)
        {
            throw new SyntaxException();
        }
        copy.Validate();
        return new ClassifiedStatement
        {
            Kind = from ? StatementKind.CopyFromStdin : StatementKind.CopyToStdout,
            Sql = sql,
            Verb = "COPY",
            Copy = copy,
        };
    }

    private static void ParseOptionList(TokenReader r, CopyStatement copy)
    {
        while (true)
        {
            var option = r.ReadIdentifier();
            switch (option)
            {
                case "format":
                    copy.Format = ParseFormat(r.ReadIdentifierOrString());
                    break;
                case "delimiter":
                    copy.Delimiter = r.ReadString();
                    break;
                case "null":
                    copy.Null = r.ReadString();
                    break;
                case "header":
                    copy.Header = ReadOptionalBoolean(r);
                    break;
                case "quote":
                    copy.Quote = r.ReadString();
                    break;
                case "escape":
                    copy.Escape = r.ReadString();
                    break;
                case "encoding":
                {
                    var encoding = r.ReadString();
                    if (!IsUtf8(encoding))
                    {
                        throw new PostgresErrorException(SqlState.FeatureNotSupported, $"COPY encoding \"{encoding}\" is not supported (UTF8 only)");
                    }
                    break;
                }
                case "force_not_null":
                    copy.ForceNotNull.AddRange(ReadColumnList(r));
                    break;
                case "force_null":
                    copy.ForceNull.AddRange(ReadColumnList(r));
                    break;
                case "force_quote":
                    if (r.IsPunct('*'))
                    {
                        r.Advance();
                        copy.ForceQuoteAll = true;
                    }
                    else
                    {
                        copy.ForceQuote.AddRange(ReadColumnList(r));
                    }
                    break;
                case "freeze":
                    ReadOptionalBoolean(r);
                    break;
                default:
                    throw new PostgresErrorException(SqlState.SyntaxError, $"option \"{option}\" not recognized");
            }
            if (r.IsPunct(','))
            {
                r.Advance();
                continue;
            }
            if (r.IsPunct(')'))
            {
                r.Advance();
                return;
            }
            throw new SyntaxException();
        }
    }

    private static void ParseLegacyOptions(TokenReader r, CopyStatement copy)
    {
        while (!r.AtEnd)
        {
            if (r.IsWord("BINARY"))
            {
                r.Advance();
                copy.Format = CopyFormat.Binary;
            }
            else if (r.IsWord("CSV"))
            {
                r.Advance();
                copy.Format = CopyFormat.Csv;
            }
            else if (r.IsWord("HEADER"))
            {
                r.Advance();
                copy.Header = true;
            }
            else if (r.IsWord("DELIMITER"))
            {
                r.Advance();
                SkipAs(r);
                copy.Delimiter = r.ReadString();
            }
            else if (r.IsWord("NULL"))
            {
                r.Advance();
                SkipAs(r);
                copy.Null = r.ReadString();
            }
            else if (r.IsWord("QUOTE"))
            {
                r.Advance();
                SkipAs(r);
                copy.Quote = r.ReadString();
            }
            else if (r.IsWord("ESCAPE"))
            {
                r.Advance();
                SkipAs(r);
                copy.Escape = r.ReadString();
            }
            else if (r.IsWord("ENCODING"))
            {
                r.Advance();
                var encoding = r.ReadString();
                if (!IsUtf8(encoding))
                {
                    throw new PostgresErrorException(SqlState.FeatureNotSupported, $"COPY encoding \"{encoding}\" is not supported (UTF8 only)");
                }
            }
            else if (r.IsWord("FORCE"))
            {
                r.Advance();
                if (r.IsWord("NOT") && r.IsWordAt(1, "NULL"))
                {
                    r.Advance();
                    r.Advance();
                    copy.ForceNotNull.AddRange(ReadBareColumnList(r));
                }
                else if (r.IsWord("NULL"))
                {
                    r.Advance();
                    copy.ForceNull.AddRange(ReadBareColumnList(r));
                }
                else if (r.IsWord("QUOTE"))
                {
                    r.Advance();
                    if (r.IsPunct('*'))
                    {
                        r.Advance();
                        copy.ForceQuoteAll = true;
                    }
                    else
                    {
                        copy.ForceQuote.AddRange(ReadBareColumnList(r));
                    }
                }
                else
                {
                    throw new SyntaxException();
                }
            }
            else if (r.IsWord("FREEZE") || r.IsWord("OIDS"))
            {
                r.Advance();
            }
            else
            {
                throw new SyntaxException();
            }
        }
    }

    private static void SkipAs(TokenReader r)
    {
        if (r.IsWord("AS"))
        {
            r.Advance();
        }
    }

    private static bool IsUtf8(string encoding) =>
        encoding.Equals("UTF8", StringComparison.OrdinalIgnoreCase) || encoding.Equals("UTF-8", StringComparison.OrdinalIgnoreCase)
        || encoding.Equals("UNICODE", StringComparison.OrdinalIgnoreCase) || encoding.Equals("SQL_ASCII", StringComparison.OrdinalIgnoreCase);

    private static CopyFormat ParseFormat(string name) => name.ToLowerInvariant() switch
    {
        "text" => CopyFormat.Text,
        "csv" => CopyFormat.Csv,
        "binary" => CopyFormat.Binary,
        _ => throw new PostgresErrorException(SqlState.InvalidParameterValue, $"COPY format \"{name}\" not recognized"),
    };

    private static bool ReadOptionalBoolean(TokenReader r)
    {
        if (r.AtEnd || r.IsPunct(',') || r.IsPunct(')'))
        {
            return true;
        }
        var text = r.ReadIdentifierOrString().ToLowerInvariant();
        return text switch
        {
            "true" or "on" or "1" or "yes" => true,
            "false" or "off" or "0" or "no" => false,
            "match" => true,
            _ => throw new PostgresErrorException(SqlState.InvalidParameterValue, $"invalid boolean value \"{text}\""),
        };
    }

    private static List<string> ReadColumnList(TokenReader r)
    {
        if (!r.IsPunct('('))
        {
            throw new SyntaxException();
        }
        r.Advance();
        var list = new List<string>();
        while (true)
        {
            list.Add(r.ReadIdentifier());
            if (r.IsPunct(','))
            {
                r.Advance();
                continue;
            }
            if (!r.IsPunct(')'))
            {
                throw new SyntaxException();
            }
            r.Advance();
            return list;
        }
    }

    private static List<string> ReadBareColumnList(TokenReader r)
    {
        var list = new List<string> { r.ReadIdentifier() };
        while (r.IsPunct(','))
        {
            r.Advance();
            list.Add(r.ReadIdentifier());
        }
        return list;
    }

    private sealed class SyntaxException : Exception;

    private sealed class TokenReader(string sql, List<SqlToken> tokens, int index)
    {
        public string Sql { get; } = sql;

        public int Index { get; private set; } = index;

        public int Count => tokens.Count;

        public bool AtEnd => Index >= tokens.Count;

        public bool AtEndAfter(int n) => Index + n >= tokens.Count;

        public SqlToken Current => AtEnd ? throw new SyntaxException() : tokens[Index];

        public SqlToken Previous => tokens[Index - 1];

        public SqlToken At(int i) => tokens[i];

        public void Advance() => Index++;

        public void Seek(int i) => Index = i;

        public bool IsWord(string word) => IsWordAt(0, word);

        public bool IsWordAt(int ahead, string word)
        {
            var i = Index + ahead;
            return i < tokens.Count && tokens[i].Kind == SqlTokenKind.Word
                && tokens[i].IsKeyword(Sql, word);
        }

        public bool IsPunct(char c) => !AtEnd && tokens[Index].IsSymbolChar(Sql, c);

        public string ReadIdentifier()
        {
            var t = Current;
            if (t.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier))
            {
                throw new SyntaxException();
            }
            Advance();
            return t.FoldedIdentifier(Sql)!;
        }

        public string ReadQualifiedName()
        {
            var name = ReadIdentifier();
            while (IsPunct('.'))
            {
                Advance();
                name += "." + ReadIdentifier();
            }
            return name;
        }

        public string ReadString()
        {
            var t = Current;
            if (t.Kind != SqlTokenKind.String)
            {
                throw new SyntaxException();
            }
            Advance();
            return t.StringValue(Sql)!;
        }

        public string ReadIdentifierOrString()
        {
            var t = Current;
            Advance();
            return t.Kind switch
            {
                SqlTokenKind.String => t.StringValue(Sql)!,
                SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier => t.FoldedIdentifier(Sql)!,
                SqlTokenKind.Number => t.Text(Sql),
                _ => throw new SyntaxException(),
            };
        }
    }
}
