using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Wire;

namespace TimeFusion.Ingest;

/// <summary>Converts timestamps in any unit to UTC microseconds (the canonical unit). A time zone on the
/// input does not change the instant: Arrow timestamps with a zone are UTC instants already.</summary>
internal static class TimestampConversion
{
    private static readonly TimestampType Canonical = new(TimeUnit.Microsecond, "UTC");

    public static TimestampArray ToMicros(TimestampArray array, TimestampType type)
    {
        if (type.Unit == TimeUnit.Microsecond && type.Timezone == "UTC") return array;
        var values = array.Values;
        var result = new ArrowBuffer.Builder<long>(values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            result.Append(type.Unit switch
            {
                TimeUnit.Second => checked(v * 1_000_000),
                TimeUnit.Millisecond => checked(v * 1_000),
                TimeUnit.Microsecond => v,
                TimeUnit.Nanosecond => v >= 0 ? v / 1_000 : (v - 999) / 1_000, // floor: -1 ns is in the microsecond before 0
                _ => throw new BatchRejectedException($"timestamp unit {type.Unit} is not supported"),
            });
        }
        var validity = array.NullCount == 0 ? ArrowBuffer.Empty : CopyValidity(array);
        return new TimestampArray(Canonical, ManagedArrowMemory.Build(result), validity, array.Length, array.NullCount, 0);
    }

    private static ArrowBuffer CopyValidity(IArrowArray array)
    {
        var bits = new ArrowBuffer.BitmapBuilder(array.Length);
        for (var i = 0; i < array.Length; i++) bits.Append(!array.IsNull(i));
        return ManagedArrowMemory.Build(bits);
    }
}
