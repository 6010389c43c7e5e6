namespace TimeFusion.Delta.Actions;

/// <summary>
/// The <c>txn</c> action (transaction identifier): the progress of an application, committed atomically with
/// its data. Our grains record <c>(appId = grain key, version = last WAL LSN flushed)</c>.
/// </summary>
/// <param name="AppId">The application's unique id.</param>
/// <param name="Version">Application-specific progress number.</param>
/// <param name="LastUpdated">When the action was created, milliseconds since the Unix epoch, if recorded.</param>
public sealed record TransactionAction(string AppId, long Version, long? LastUpdated = null) : DeltaAction;
