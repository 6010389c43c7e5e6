namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>Where flattened attribute values go: the row being built, or a resource's values kept for each of its rows.</summary>
internal interface IFlatTarget
{
    /// <summary>Sets a text column.</summary>
    void Utf8(int column, ReadOnlySpan<byte> value);

    /// <summary>Sets a 32-bit integer column.</summary>
    void Int32(int column, int value);

    /// <summary>Sets a 64-bit integer column.</summary>
    void Int64(int column, long value);
}
