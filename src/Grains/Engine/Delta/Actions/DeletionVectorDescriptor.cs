namespace TimeFusion.Delta.Actions;

/// <summary>
/// A deletion vector attached to a file action. This reader does not apply deletion vectors: a table that
/// uses them is refused (<see cref="DeltaUnsupportedFeatureException"/>); the descriptor is parsed only so that
/// file keys are right and the refusal is certain.
/// </summary>
/// <param name="StorageType"><c>u</c> (relative UUID path), <c>i</c> (inline) or <c>p</c> (absolute path).</param>
/// <param name="PathOrInlineDv">The encoded path or inline bitmap.</param>
/// <param name="Offset">Byte offset of the vector in its file, if any.</param>
/// <param name="SizeInBytes">Size of the serialized vector.</param>
/// <param name="Cardinality">Number of rows it deletes.</param>
public sealed record DeletionVectorDescriptor(string StorageType, string PathOrInlineDv, int? Offset, int SizeInBytes, long Cardinality)
{
    /// <summary>The protocol's <c>uniqueId</c>: <c>{storageType}{pathOrInlineDv}</c>, plus <c>@{offset}</c> when an offset is set.</summary>
    public string UniqueId => Offset is { } o ? $"{StorageType}{PathOrInlineDv}@{o}" : StorageType + PathOrInlineDv;
}
