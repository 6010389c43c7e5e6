namespace TimeFusion.Tables;

/// <summary>One column of a table schema.</summary>
/// <param name="Name">Column name, as users write it in SQL.</param>
/// <param name="Type">Logical type.</param>
/// <param name="Nullable">Whether nulls are allowed; a NOT NULL column rejects a batch holding a null.</param>
[GenerateSerializer, Immutable]
public sealed record ColumnDefinition([property: Id(0)] string Name, [property: Id(1)] ColumnType Type, [property: Id(2)] bool Nullable = true);
