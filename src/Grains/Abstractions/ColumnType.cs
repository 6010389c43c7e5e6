namespace TimeFusion.Tables;

/// <summary>The logical column types a TimeFusion table supports.</summary>
public enum ColumnType
{
    /// <summary>UTF-8 text.</summary>
    Utf8,
    /// <summary>UTF-8 text holding a JSON document (JSON logical type; <c>jsonb</c> to PostgreSQL clients).</summary>
    Json,
    /// <summary>Boolean.</summary>
    Boolean,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>64-bit signed integer.</summary>
    Int64,
    /// <summary>64-bit IEEE float.</summary>
    Float64,
    /// <summary>Microsecond timestamp, UTC.</summary>
    TimestampUs,
    /// <summary>Calendar date (days since the epoch).</summary>
    Date,
    /// <summary>List of UTF-8 strings (<c>text[]</c>).</summary>
    Utf8List,
    /// <summary>Raw bytes.</summary>
    Binary,
}
