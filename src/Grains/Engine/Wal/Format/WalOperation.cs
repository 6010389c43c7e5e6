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
}
