namespace TimeFusion.Sql;

/// <summary>What <see cref="SqlTokenizer"/> does with text that ends inside a string, quoted identifier, dollar quote or comment.</summary>
public enum SqlTokenizerMode
{
    /// <summary>Throw <see cref="SqlSyntaxException"/> (42601): planning rejects the statement before it runs.</summary>
    Strict,

    /// <summary>
    /// Let the token (or comment) run to the end of the text: the PostgreSQL protocol only splits and routes, and the
    /// backend reports the syntax error for the statement it belongs to.
    /// </summary>
    Lenient,
}
