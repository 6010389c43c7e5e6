using TimeFusion.Client.Cli.Flight;

namespace TimeFusion.Client.Cli.Query;

/// <summary>Prints a query result in one format.</summary>
public interface IResultWriter
{
    /// <summary>Writes every row of <paramref name="result"/>; returns the row count.</summary>
    Task<long> WriteAsync(QueryStream result, CancellationToken ct);
}
