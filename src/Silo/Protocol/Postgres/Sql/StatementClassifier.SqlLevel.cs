using TimeFusion.Sql;

namespace TimeFusion.Silo.Protocol.Postgres.Sql;

/// <summary>SQL-level prepared statements and cursors: PREPARE, EXECUTE, DECLARE, FETCH, CLOSE.</summary>
internal static partial class StatementClassifier
{
    private static ClassifiedStatement ParsePrepare(string sql, TokenReader r)
    {
        if (r.IsWord("TRANSACTION"))
        {
            return Other(sql, "PREPARE");
        }
        var name = r.ReadIdentifier();
        var types = new List<string>();
        if (r.IsPunct('('))
        {
            r.Advance();
            types.AddRange(ReadListTexts(r));
        }
        if (!r.IsWord("AS"))
        {
            throw new SyntaxException();
        }
        r.Advance();
        var body = sql[r.Current.Start..].Trim();
        return new ClassifiedStatement { Kind = StatementKind.Prepare, Sql = sql, Verb = "PREPARE", Name = name, TypeNames = types, Body = Classify(body) };
    }

    private static ClassifiedStatement ParseExecute(string sql, TokenReader r)
    {
        var name = r.ReadIdentifier();
        var arguments = new List<string?>();
        string? refusal = null;
        if (r.IsPunct('('))
        {
            r.Advance();
            foreach (var text in ReadListTexts(r))
            {
                if (!TryConstant(text, out var value))
                {
                    refusal ??= $"EXECUTE arguments must be constants here, not \"{text}\"";
                }
                arguments.Add(value);
            }
        }
        if (!r.AtEnd)
        {
            throw new SyntaxException();
        }
        return new ClassifiedStatement { Kind = StatementKind.ExecutePrepared, Sql = sql, Verb = "EXECUTE", Name = name, Arguments = arguments, Refusal = refusal };
    }

    /// <summary>A constant argument: a string, a (signed) number, NULL, TRUE or FALSE, optionally cast (<c>'x'::text</c>).</summary>
    private static bool TryConstant(string text, out string? value)
    {
        value = null;
        var tokens = SqlTokenizer.Tokenize(text, SqlTokenizerMode.Lenient);
        var i = 0;
        var sign = "";
        if (i < tokens.Count && (tokens[i].IsSymbolChar(text, '-') || tokens[i].IsSymbolChar(text, '+')))
        {
            sign = tokens[i].Text(text) == "-" ? "-" : "";
            i++;
        }
        if (i >= tokens.Count)
        {
            return false;
        }
        var t = tokens[i++];
        switch (t.Kind)
        {
            case SqlTokenKind.String when sign.Length == 0:
                value = t.StringValue(text);
                break;
            case SqlTokenKind.Number:
                value = sign + t.Text(text);
                break;
            case SqlTokenKind.Word when sign.Length == 0 && t.IsKeyword(text, "NULL"):
                value = null;
                break;
            case SqlTokenKind.Word when sign.Length == 0 && (t.IsKeyword(text, "TRUE") || t.IsKeyword(text, "FALSE")):
                value = t.Text(text).ToLowerInvariant();
                break;
            default:
                return false;
        }
        // Anything after the constant must be a cast.
        return i >= tokens.Count || (i + 1 < tokens.Count && tokens[i].IsSymbolChar(text, ':') && tokens[i + 1].IsSymbolChar(text, ':'));
    }

    /// <summary>Reads <c>a, b(1, 2), c ) </c> after an opening parenthesis: the items' texts, up to and past the closing one.</summary>
    private static List<string> ReadListTexts(TokenReader r)
    {
        var items = new List<string>();
        var depth = 0;
        var start = r.Current.Start;
        while (true)
        {
            var t = r.Current;
            if (t.Kind == SqlTokenKind.Open)
            {
                depth++;
            }
            else if (t.Kind == SqlTokenKind.Close && depth > 0)
            {
                depth--;
            }
            else if (depth == 0 && (t.Kind == SqlTokenKind.Comma || t.Kind == SqlTokenKind.Close))
            {
                var item = r.Sql[start..t.Start].Trim();
                if (item.Length == 0)
                {
                    throw new SyntaxException();
                }
                items.Add(item);
                r.Advance();
                if (t.Kind == SqlTokenKind.Close)
                {
                    return items;
                }
                start = r.Current.Start;
                continue;
            }
            r.Advance();
        }
    }

    private static ClassifiedStatement ParseDeclare(string sql, TokenReader r)
    {
        var name = r.ReadIdentifier();
        while (r.IsWord("BINARY") || r.IsWord("ASENSITIVE") || r.IsWord("INSENSITIVE") || r.IsWord("NO") || r.IsWord("SCROLL"))
        {
            r.Advance();
        }
        if (!r.IsWord("CURSOR"))
        {
            throw new SyntaxException();
        }
        r.Advance();
        var hold = false;
        if ((r.IsWord("WITH") || r.IsWord("WITHOUT")) && r.IsWordAt(1, "HOLD"))
        {
            hold = r.IsWord("WITH");
            r.Advance();
            r.Advance();
        }
        if (!r.IsWord("FOR"))
        {
            throw new SyntaxException();
        }
        r.Advance();
        var body = sql[r.Current.Start..].Trim();
        return new ClassifiedStatement { Kind = StatementKind.DeclareCursor, Sql = sql, Verb = "DECLARE", Name = name, Hold = hold, Body = Classify(body) };
    }

    private static ClassifiedStatement ParseFetch(string sql, TokenReader r)
    {
        long count = 1;
        if (r.IsWord("NEXT"))
        {
            r.Advance();
        }
        else if (r.IsWord("ALL"))
        {
            count = long.MaxValue;
            r.Advance();
        }
        else if (r.IsWord("FORWARD"))
        {
            r.Advance();
            count = ReadCount(r) ?? 1;
        }
        else if (ReadCount(r) is { } n)
        {
            count = n;
        }
        else if (r.IsWord("PRIOR") || r.IsWord("FIRST") || r.IsWord("LAST") || r.IsWord("ABSOLUTE") || r.IsWord("RELATIVE") || r.IsWord("BACKWARD"))
        {
            // Cursors here move forward only (NO SCROLL): the backend refuses the statement as unsupported.
            return new ClassifiedStatement { Kind = StatementKind.Fetch, Sql = sql, Verb = "FETCH", FetchCount = -1, Name = "" };
        }
        if (r.IsWord("FROM") || r.IsWord("IN"))
        {
            r.Advance();
        }
        var name = r.ReadIdentifier();
        if (!r.AtEnd)
        {
            throw new SyntaxException();
        }
        return new ClassifiedStatement { Kind = StatementKind.Fetch, Sql = sql, Verb = "FETCH", FetchCount = count, Name = name };
    }

    private static long? ReadCount(TokenReader r)
    {
        if (r.IsWord("ALL"))
        {
            r.Advance();
            return long.MaxValue;
        }
        if (!r.AtEnd && r.Current.Kind == SqlTokenKind.Number && long.TryParse(r.Current.Text(r.Sql), out var n) && n >= 0)
        {
            r.Advance();
            return n;
        }
        return null;
    }

    private static ClassifiedStatement ParseClose(string sql, TokenReader r)
    {
        var name = r.IsWord("ALL") ? "all" : r.ReadIdentifier();
        if (name == "all")
        {
            r.Advance();
        }
        if (!r.AtEnd)
        {
            throw new SyntaxException();
        }
        return new ClassifiedStatement { Kind = StatementKind.CloseCursor, Sql = sql, Verb = "CLOSE", Name = name };
    }
}
