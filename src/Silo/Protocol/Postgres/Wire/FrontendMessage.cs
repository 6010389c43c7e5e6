using System.Buffers;

namespace TimeFusion.Silo.Protocol.Postgres.Wire;

/// <summary>One frontend message: its type byte and body (in a pooled array, returned by <see cref="Dispose"/>).</summary>
internal readonly struct FrontendMessage : IDisposable
{
    private readonly byte[]? _rented;

    public FrontendMessage(byte type, byte[]? rented, int length)
    {
        Type = type;
        _rented = rented;
        Length = length;
    }

    public byte Type { get; }

    public int Length { get; }

    public ReadOnlySpan<byte> Body => _rented is null ? ReadOnlySpan<byte>.Empty : _rented.AsSpan(0, Length);

    public ReadOnlyMemory<byte> BodyMemory => _rented is null ? ReadOnlyMemory<byte>.Empty : _rented.AsMemory(0, Length);

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }
    }
}
