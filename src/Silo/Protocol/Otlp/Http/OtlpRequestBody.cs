using System.Buffers;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;

namespace TimeFusion.Silo.Protocol.Otlp.Http;

/// <summary>
/// Reads an OTLP/HTTP request body into a pooled buffer, undoing <c>Content-Encoding: gzip</c>, and refuses one larger
/// than the cap (413) before and after decompression, so a small gzip bomb cannot blow up the silo's memory.
/// </summary>
internal sealed class OtlpRequestBody : IDisposable
{
    private byte[] _buffer;

    private OtlpRequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    /// <summary>The body's bytes.</summary>
    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>The array holding the body (from index 0; longer than <see cref="Length"/>).</summary>
    public byte[] Array => _buffer;

    /// <summary>The body's length.</summary>
    public int Length { get; }

    /// <summary>Reads the body; throws <see cref="OtlpFailureException"/> (too large, unsupported encoding, broken gzip).</summary>
    public static async Task<OtlpRequestBody> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes) throw TooLarge(maxBytes);
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        Stream source = request.Body;
        var gzip = false;
        if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            source = new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
            gzip = true;
        }
        else if (encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            throw new OtlpFailureException(OtlpFailureKind.Unsupported, $"Content-Encoding '{encoding}' is not supported; use gzip or none");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 64 * 1024, 1024, maxBytes) * (gzip ? 4 : 1) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes) throw TooLarge(maxBytes);
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int read;
                try
                {
                    read = await source.ReadAsync(buffer.AsMemory(length), ct);
                }
                catch (InvalidDataException)
                {
                    throw new OtlpFailureException(OtlpFailureKind.Invalid, "the body is not valid gzip");
                }
                if (read == 0) break;
                length += read;
                if (length > maxBytes) throw TooLarge(maxBytes);
            }
            return new OtlpRequestBody(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        finally
        {
            if (gzip) await source.DisposeAsync();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    private static OtlpFailureException TooLarge(int maxBytes) =>
        new(OtlpFailureKind.TooLarge, $"the request body is larger than {maxBytes} bytes (TimeFusion:Otlp:MaxRequestBytes)");
}
