using Apache.Arrow;
using Grpc.Core;
using TimeFusion.Silo.Protocol.Flight;

namespace TimeFusion.Tests.Protocol.Flight;

/// <summary>A DoPut's request stream made of messages already parsed (<see cref="FlightPutData.Parse"/>), read in order.</summary>
internal sealed class ListReader(IReadOnlyList<FlightPutData> messages) : IAsyncStreamReader<FlightPutData>
{
    private int _next;

    public FlightPutData Current { get; private set; } = null!;

    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_next >= messages.Count) return Task.FromResult(false);
        Current = messages[_next++];
        return Task.FromResult(true);
    }
}

/// <summary>An array of no kind Arrow's IPC writer knows (its visitor call reaches the writer's fallback, which throws).</summary>
internal sealed class UnknownArray(IArrowArray inner) : IArrowArray
{
    public int Length => inner.Length;
    public int Offset => inner.Offset;
    public int NullCount => inner.NullCount;
    public ArrayData Data => inner.Data;
    public bool IsNull(int index) => inner.IsNull(index);
    public bool IsValid(int index) => inner.IsValid(index);
    public void Accept(IArrowArrayVisitor visitor) => visitor.Visit(this);
    public void Dispose() => inner.Dispose();
}
