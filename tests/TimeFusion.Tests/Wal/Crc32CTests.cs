using System.Text;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

public sealed class Crc32CTests
{
    public static TheoryData<byte[], uint> Vectors() => new()
    {
        { Encoding.ASCII.GetBytes("123456789"), 0xE3069283u },
        { new byte[32], 0x8A9136AAu }, // RFC 3720 B.4
        { Enumerable.Repeat((byte)0xFF, 32).ToArray(), 0x62A8AB43u },
        { Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), 0x46DD794Eu },
        { Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(), 0x113FDB5Cu },
        { [], 0u },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Known_vectors_match_on_the_hardware_and_the_table_paths(byte[] data, uint expected)
    {
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.AppendSoftware(0, data));
    }

    [Fact]
    public void Appending_in_pieces_equals_one_pass_and_both_paths_agree()
    {
        var random = new Random(42);
        for (var n = 0; n < 300; n++)
        {
            var data = new byte[random.Next(0, 2000)];
            random.NextBytes(data);
            var split = random.Next(0, data.Length + 1);
            var whole = Crc32C.Compute(data);
            Assert.Equal(whole, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
            Assert.Equal(whole, Crc32C.AppendSoftware(0, data));
        }
    }
}
