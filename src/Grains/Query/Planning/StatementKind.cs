namespace TimeFusion.Query.Planning;

/// <summary>What kind of statement a piece of SQL is.</summary>
public enum StatementKind
{
    /// <summary>A query: SELECT, WITH … SELECT, set operations, VALUES, <c>FROM t</c>, <c>TABLE t</c>.</summary>
    Select,
    /// <summary>INSERT.</summary>
    Insert,
    /// <summary>UPDATE.</summary>
    Update,
    /// <summary>DELETE.</summary>
    Delete,
    /// <summary>CREATE TABLE.</summary>
    CreateTable,
    /// <summary>Our own <c>FLUSH</c> / <c>FLUSH &lt;table&gt;</c>: flush buffered rows to Delta now.</summary>
    Flush,
    /// <summary>COPY (e.g. <c>COPY t FROM STDIN</c>, handled by the wire protocol).</summary>
    Copy,
    /// <summary>
    /// Session and transaction statements passed through to the front end: SET, RESET, SHOW, BEGIN, START,
    /// COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE, DISCARD, DEALLOCATE, DESCRIBE, LISTEN, UNLISTEN, CLOSE.
    /// </summary>
    Utility,
    /// <summary>Anything else (DDL other than CREATE TABLE, EXPLAIN, PRAGMA, ATTACH, …): the gateway refuses these.</summary>
    Other,
}
