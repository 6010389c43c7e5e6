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
    /// <summary>SQL-level <c>PREPARE name [(types)] AS statement</c>.</summary>
    Prepare,
    /// <summary>SQL-level <c>EXECUTE name [(arguments)]</c>.</summary>
    ExecutePrepared,
    /// <summary><c>DECLARE name CURSOR [WITH HOLD] FOR query</c>.</summary>
    DeclareCursor,
    /// <summary><c>FETCH [n | ALL | NEXT | FORWARD …] [FROM | IN] name</c>.</summary>
    Fetch,
    /// <summary><c>CLOSE name | ALL</c>.</summary>
    CloseCursor,
    /// <summary>
    /// Nothing to do here, answered with the command tag in <see cref="ClassifiedStatement.Name"/>: <c>DISCARD PLANS |
    /// SEQUENCES | TEMP</c>, <c>UNLISTEN</c>, <c>RESET SESSION AUTHORIZATION</c> (what a driver's pooled-connection reset sends).
    /// </summary>
    Acknowledge,
    /// <summary><c>SET SESSION AUTHORIZATION user | DEFAULT</c> (<see cref="ClassifiedStatement.Value"/> the user, null for DEFAULT).</summary>
    SetSessionAuthorization,
}
