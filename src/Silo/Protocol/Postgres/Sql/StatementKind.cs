namespace TimeFusion.Silo.Protocol.Postgres.Sql;

/// <summary>What the protocol layer does with a statement.</summary>
internal enum StatementKind
{
    /// <summary>Handed to the backend.</summary>
    Other,
    Set,
    Reset,
    Show,
    CopyFromStdin,
    CopyToStdout,
    DiscardAll,
    Deallocate,
    Empty,
}
