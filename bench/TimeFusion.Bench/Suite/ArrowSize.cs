using Apache.Arrow;
using TimeFusion.Buffer;

namespace TimeFusion.Bench.Suite;

/// <summary>Bytes of Arrow data a batch's rows occupy (what "Arrow size" means in the figures; no builder slack).</summary>
public static class ArrowSize
{
    public static long Of(RecordBatch batch) => ArrowSizeEstimator.DataBytes(batch);
}
