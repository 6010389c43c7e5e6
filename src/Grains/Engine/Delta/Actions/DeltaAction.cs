namespace TimeFusion.Delta.Actions;

/// <summary>
/// One action of a Delta log entry (a line of a <c>_delta_log/{version}.json</c> commit or a row of a checkpoint).
/// Field names and meanings follow the Delta protocol (PROTOCOL.md, "Actions").
/// </summary>
public abstract record DeltaAction;

/// <summary>An action this implementation does not interpret (e.g. <c>cdc</c>, <c>domainMetadata</c>); kept by name only.</summary>
/// <param name="Name">The action's JSON key.</param>
public sealed record UnknownAction(string Name) : DeltaAction;
