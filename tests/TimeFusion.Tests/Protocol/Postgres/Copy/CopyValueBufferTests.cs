using System.Runtime.InteropServices;
using CsCheck;
using TimeFusion.Silo.Protocol.Postgres.Copy;

namespace TimeFusion.Tests.Protocol.Postgres.Copy;

/// <summary>
/// The COPY builders' value buffer (<see cref="CopyValueBuffer{T}"/>): whatever mix of single values and spans is
/// appended, through any number of growths from any starting capacity, each built buffer holds exactly the values
/// appended since the last build, and a built buffer is not changed by later appends.
/// </summary>
public sealed class CopyValueBufferTests
{
    [Fact]
    public void Built_buffers_hold_exactly_the_values_appended_since_the_last_build()
    {
        // Each batch: a list of appends, a single value (length-1 array) or a span.
        var appends = Gen.Int.Array[0, 40].Array[0, 30];
        Gen.Select(Gen.Int[0, 100], appends.Array[1, 4]).Sample((capacity, batches) =>
        {
            var buffer = new CopyValueBuffer<int>(capacity);
            var built = new List<(int[] Expected, Apache.Arrow.ArrowBuffer Buffer)>();
            foreach (var batch in batches)
            {
                var expected = new List<int>();
                foreach (var values in batch)
                {
                    if (values.Length == 1)
                        buffer.Append(values[0]);
                    else
                        buffer.Append(values);
                    expected.AddRange(values);
                }
                Assert.Equal(expected.Count, buffer.Length);
                built.Add((expected.ToArray(), buffer.Build()));
                Assert.Equal(0, buffer.Length);
            }
            // Checked after all batches: later appends did not write into an earlier batch's memory.
            foreach (var (expected, b) in built)
                Assert.Equal(expected, MemoryMarshal.Cast<byte, int>(b.Span).ToArray());
        }, iter: 300);
    }

    [Fact]
    public void Bytes_and_wide_values_keep_their_layout()
    {
        var bytes = new CopyValueBuffer<byte>(1);
        bytes.Append("héllo"u8);
        bytes.Append((byte)'!');
        Assert.Equal("héllo!"u8.ToArray(), bytes.Build().Span.ToArray());

        var wide = new CopyValueBuffer<Int128>(1);
        wide.Append(Int128.MaxValue);
        wide.Append(-1);
        Assert.Equal(new[] { Int128.MaxValue, -1 }, MemoryMarshal.Cast<byte, Int128>(wide.Build().Span).ToArray());
    }
}
