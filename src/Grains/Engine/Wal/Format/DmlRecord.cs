namespace TimeFusion.Wal;

/// <summary>
/// The payload of a delete or update entry: the WHERE predicate and, for updates, the SET assignments,
/// all as SQL text (already confined to the grain's project by the caller).
/// </summary>
/// <param name="Predicate">The WHERE predicate SQL text.</param>
/// <param name="Assignments">Column name → SQL expression text, in statement order; empty for a delete.</param>
public sealed record DmlRecord(string Predicate, IReadOnlyList<KeyValuePair<string, string>> Assignments);
