using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>The resolved target of a <c>COPY … FROM STDIN</c>.</summary>
/// <param name="Table">The table as the backend resolved it.</param>
/// <param name="Schema">The Arrow schema incoming rows are parsed into, one field per copied column, in COPY order.</param>
/// <param name="State">Anything the backend wants back in <see cref="IPostgresSession.CopyInAsync"/>.</param>
/// <param name="RouteColumn">
/// The index in <paramref name="Schema"/> of a column whose value decides where a row goes (a tenant column), or -1:
/// the parser then hands over batches whose rows all share that column's value, so that none needs splitting again.
/// </param>
public sealed record CopyTarget(string Table, Schema Schema, object? State = null, int RouteColumn = -1);
