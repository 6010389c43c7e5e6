using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>The resolved target of a <c>COPY … FROM STDIN</c>.</summary>
/// <param name="Table">The table as the backend resolved it.</param>
/// <param name="Schema">The Arrow schema incoming rows are parsed into, one field per copied column, in COPY order.</param>
/// <param name="State">Anything the backend wants back in <see cref="IPostgresSession.CopyInAsync"/>.</param>
public sealed record CopyTarget(string Table, Schema Schema, object? State = null);
