namespace TimeFusion.Wal;

/// <summary>What a WAL entry records.</summary>
public enum WalOperation : byte
{
    /// <summary>Rows appended; the payload is an Arrow IPC stream (schema + one record batch).</summary>
    Insert = 1,

    /// <summary>A <c>DELETE … WHERE</c>; the payload is a <see cref="DmlRecord"/>.</summary>
    Delete = 2,

    /// <summary>An <c>UPDATE … SET … WHERE</c>; the payload is a <see cref="DmlRecord"/>.</summary>
    Update = 3,

    /// <summary>
    /// A transaction block's writes to this table, inserts and deletes/updates in statement order, as one entry; the
    /// payload is a <see cref="WalTransaction"/>. The entry is its own commit record: replay applies all of it or, when
    /// the entry is missing or torn, nothing.
    /// </summary>
    Transaction = 4,
}
