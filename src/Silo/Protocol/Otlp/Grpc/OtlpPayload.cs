using System.Buffers;
using Grpc.Core;

namespace TimeFusion.Silo.Protocol.Otlp.Grpc;

/// <summary>
/// An OTLP/gRPC export as received: its protobuf bytes, copied out of the HTTP/2 frames into a pooled array. The handler
/// decodes them straight into columns (<see cref="Mapping.OtlpProtobuf"/>) instead of letting gRPC build the generated
/// message tree first; it returns the array with <see cref="Dispose"/>.
/// </summary>
internal sealed class OtlpPayload : IDisposable
{
    private byte[] _array;

    private OtlpPayload(byte[] array, int length)
    {
        _array = array;
        Length = length;
    }

    /// <summary>The array holding the bytes (from index 0; longer than <see cref="Length"/>).</summary>
    public byte[] Array => _array;

    /// <summary>The number of bytes.</summary>
    public int Length { get; }

    /// <summary>The request marshaller: the payload as bytes (gRPC has already checked it against the size limit).</summary>
    public static Marshaller<OtlpPayload> Marshaller { get; } = Marshallers.Create<OtlpPayload>(
        (payload, context) => context.Complete(payload._array.AsSpan(0, payload.Length).ToArray()),
        context =>
        {
            var payload = context.PayloadAsReadOnlySequence();
            var array = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, payload.Length));
            payload.CopyTo(array);
            return new OtlpPayload(array, (int)payload.Length);
        });

    /// <inheritdoc />
    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, []);
        if (array.Length > 0) ArrayPool<byte>.Shared.Return(array);
    }
}
