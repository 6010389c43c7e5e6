using Orleans.Concurrency;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// A query gateway's proxy on one silo, keyed by that silo's identity (its grains'
/// <c>Grain.RuntimeIdentity</c>) and placed on it: runs the parts of one statement whose table grains live there
/// and answers with all of them in one reply. A fan-out over N grains on another silo then crosses the process
/// boundary twice, not 2·N times. If that silo is gone the grain activates elsewhere and its calls still reach every
/// table grain wherever it now is: where it runs only decides how many hops the parts take, never what they answer.
/// </summary>
public interface ISiloQueryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs every part on its table grain, concurrently, and returns their answers in the order of
    /// <paramref name="parts"/>. The first failure cancels the others and is rethrown; cancelling
    /// <paramref name="cancellationToken"/> interrupts each grain's DuckDB.
    /// </summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<GrainQueryAnswer>> QueryPartsAsync(IReadOnlyList<GrainQueryPart> parts, CancellationToken cancellationToken = default);
}

/// <summary>One table grain's part of a statement.</summary>
/// <param name="GrainKey">The table grain (<see cref="TableGrainKey"/>).</param>
/// <param name="Query">What it runs.</param>
[GenerateSerializer, Immutable]
public sealed record GrainQueryPart([property: Id(0)] string GrainKey, [property: Id(1)] GrainQuery Query);

/// <summary>A table grain's answer to its part, with the silo that answered (its <c>Grain.RuntimeIdentity</c>).</summary>
/// <param name="Rows">The part's result (owned IPC bytes).</param>
/// <param name="Silo">Where the table grain runs now: the gateway sends its next parts for this grain there.</param>
[GenerateSerializer, Immutable]
public sealed record GrainQueryAnswer([property: Id(0)] ArrowBatches Rows, [property: Id(1)] string Silo);
