namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// One statement the protocol layer hands to the backend: split off the query string and read once by the protocol,
/// so the backend routes it by <see cref="Keyword"/> without scanning or classifying the text again.
/// </summary>
/// <param name="Sql">The statement's text, without its semicolon (parameters, if any, still as <c>$n</c>).</param>
/// <param name="Keyword">
/// Its first keyword as the protocol read it, upper case (<c>SELECT</c>, <c>INSERT</c>, <c>BEGIN</c>, …); <c>(</c> for a
/// parenthesized query; empty when it starts with anything else.
/// </param>
public sealed record BackendStatement(string Sql, string Keyword);
