namespace TimeFusion.Silo.Protocol.Postgres.Wire;

/// <summary>Takes the bytes of CopyData message bodies as they arrive, in pieces split anywhere.</summary>
internal interface ICopyDataSink
{
    /// <summary>The next bytes of the COPY data stream (valid only during the call).</summary>
    void Feed(ReadOnlySpan<byte> data);
}
