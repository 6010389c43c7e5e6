namespace TimeFusion.Wire;

/// <summary>
/// The SQLSTATE codes TimeFusion reports, every layer and protocol alike (PostgreSQL's Appendix A, each constant
/// named as its condition there). Errors carry one of these to clients: the PostgreSQL wire protocol sends it as is,
/// Arrow Flight in its message and trailer, the SDK in <see cref="TimeFusionException.SqlState"/>.
/// </summary>
public static class SqlState
{
    /// <summary>00000 successful_completion.</summary>
    public const string SuccessfulCompletion = "00000";

    /// <summary>08P01 protocol_violation: a malformed or out-of-order wire message.</summary>
    public const string ProtocolViolation = "08P01";

    /// <summary>0A000 feature_not_supported: a construct the engine or protocol does not support.</summary>
    public const string FeatureNotSupported = "0A000";

    /// <summary>22003 numeric_value_out_of_range.</summary>
    public const string NumericValueOutOfRange = "22003";

    /// <summary>22007 invalid_datetime_format.</summary>
    public const string InvalidDatetimeFormat = "22007";

    /// <summary>22008 datetime_field_overflow.</summary>
    public const string DatetimeFieldOverflow = "22008";

    /// <summary>22012 division_by_zero.</summary>
    public const string DivisionByZero = "22012";

    /// <summary>22021 character_not_in_repertoire (invalid UTF-8).</summary>
    public const string CharacterNotInRepertoire = "22021";

    /// <summary>22023 invalid_parameter_value: also a rejected batch or DML request.</summary>
    public const string InvalidParameterValue = "22023";

    /// <summary>22P02 invalid_text_representation: a value cannot be converted.</summary>
    public const string InvalidTextRepresentation = "22P02";

    /// <summary>22P03 invalid_binary_representation.</summary>
    public const string InvalidBinaryRepresentation = "22P03";

    /// <summary>22P04 bad_copy_file_format.</summary>
    public const string BadCopyFileFormat = "22P04";

    /// <summary>23502 not_null_violation.</summary>
    public const string NotNullViolation = "23502";

    /// <summary>25001 active_sql_transaction: not allowed inside a transaction block.</summary>
    public const string ActiveSqlTransaction = "25001";

    /// <summary>25006 read_only_sql_transaction: a write inside a READ ONLY transaction block.</summary>
    public const string ReadOnlySqlTransaction = "25006";

    /// <summary>25P01 no_active_sql_transaction: a statement that needs a transaction block ran outside one.</summary>
    public const string NoActiveSqlTransaction = "25P01";

    /// <summary>25P02 in_failed_sql_transaction: the transaction was aborted by an earlier statement.</summary>
    public const string InFailedSqlTransaction = "25P02";

    /// <summary>26000 invalid_sql_statement_name (unknown prepared statement).</summary>
    public const string InvalidSqlStatementName = "26000";

    /// <summary>28000 invalid_authorization_specification.</summary>
    public const string InvalidAuthorizationSpecification = "28000";

    /// <summary>28P01 invalid_password.</summary>
    public const string InvalidPassword = "28P01";

    /// <summary>34000 invalid_cursor_name (unknown portal).</summary>
    public const string InvalidCursorName = "34000";

    /// <summary>3D000 invalid_catalog_name (unknown database).</summary>
    public const string InvalidCatalogName = "3D000";

    /// <summary>42000 syntax_error_or_access_rule_violation: other semantic errors found while binding (the class code).</summary>
    public const string SyntaxErrorOrAccessRuleViolation = "42000";

    /// <summary>42501 insufficient_privilege: the caller may not read or write a project, or the statement reaches none.</summary>
    public const string InsufficientPrivilege = "42501";

    /// <summary>42601 syntax_error.</summary>
    public const string SyntaxError = "42601";

    /// <summary>42701 duplicate_column: a column named twice where it must be unique.</summary>
    public const string DuplicateColumn = "42701";

    /// <summary>42702 ambiguous_column.</summary>
    public const string AmbiguousColumn = "42702";

    /// <summary>42703 undefined_column.</summary>
    public const string UndefinedColumn = "42703";

    /// <summary>42704 undefined_object.</summary>
    public const string UndefinedObject = "42704";

    /// <summary>42803 grouping_error: a column must appear in GROUP BY or be aggregated.</summary>
    public const string GroupingError = "42803";

    /// <summary>42804 datatype_mismatch.</summary>
    public const string DatatypeMismatch = "42804";

    /// <summary>42883 undefined_function.</summary>
    public const string UndefinedFunction = "42883";

    /// <summary>42P01 undefined_table.</summary>
    public const string UndefinedTable = "42P01";

    /// <summary>42P07 duplicate_table.</summary>
    public const string DuplicateTable = "42P07";

    /// <summary>42P03 duplicate_cursor (portal).</summary>
    public const string DuplicateCursor = "42P03";

    /// <summary>42P05 duplicate_prepared_statement.</summary>
    public const string DuplicatePreparedStatement = "42P05";

    /// <summary>42P16 invalid_table_definition: a table schema the engine refuses.</summary>
    public const string InvalidTableDefinition = "42P16";

    /// <summary>53200 out_of_memory: also ingest backpressure (retryable).</summary>
    public const string OutOfMemory = "53200";

    /// <summary>53300 too_many_connections.</summary>
    public const string TooManyConnections = "53300";

    /// <summary>53400 configuration_limit_exceeded: a server setting's limit (a user's concurrent statements).</summary>
    public const string ConfigurationLimitExceeded = "53400";

    /// <summary>54000 program_limit_exceeded.</summary>
    public const string ProgramLimitExceeded = "54000";

    /// <summary>54001 statement_too_complex (nesting deeper than the engine's expression depth).</summary>
    public const string StatementTooComplex = "54001";

    /// <summary>55P02 cant_change_runtime_param.</summary>
    public const string CantChangeRuntimeParam = "55P02";

    /// <summary>57014 query_canceled (cancel request or statement timeout).</summary>
    public const string QueryCanceled = "57014";

    /// <summary>
    /// 40001 serialization_failure: the statement was not applied because the table moved to another silo (its previous
    /// owner was fenced) or a concurrent owner committed first; retry it.
    /// </summary>
    public const string SerializationFailure = "40001";

    /// <summary>
    /// 40003 statement_completion_unknown: the silo running the statement became unreachable mid-way; a write may or may
    /// not have been applied. Retrying is safe for reads; for writes it may duplicate rows.
    /// </summary>
    public const string StatementCompletionUnknown = "40003";

    /// <summary>57P01 admin_shutdown.</summary>
    public const string AdminShutdown = "57P01";

    /// <summary>58030 io_error: storage or the WAL failed, or a table is reopening (retryable).</summary>
    public const string IoError = "58030";

    /// <summary>XX000 internal_error: a bug, never the caller's fault.</summary>
    public const string InternalError = "XX000";
}
