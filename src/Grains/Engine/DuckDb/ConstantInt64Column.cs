using System.Buffers;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.DuckDb;

/// <summary>
/// A reusable native buffer that backs the constant <c>_lsn</c> column added to every appended slice.
/// One per table (appends to a table are serialized), so a batch costs one fill of 8 bytes per row and
/// no allocation beyond the small Arrow wrapper objects. The array it hands out is only valid until the
/// next <see cref="Create"/> or <see cref="Dispose"/>: DuckDB copies the values during the append.
/// </summary>
internal sealed unsafe class ConstantInt64Column : IDisposable
{
    private readonly Manager _manager;

    public ConstantInt64Column(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _manager = new Manager(capacity);
    }

    /// <summary>An Int64 array of <paramref name="length"/> rows all equal to <paramref name="value"/>.</summary>
    public Int64Array Create(long value, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _manager.Capacity);
        new Span<long>(_manager.Pointer, length).Fill(value);
        var values = new ArrowBuffer(_manager.Memory.Slice(0, length * sizeof(long)));
        return new Int64Array(new ArrayData(Int64Type.Default, length, 0, 0, [ArrowBuffer.Empty, values]));
    }

    public void Dispose() => ((IDisposable)_manager).Dispose();

    private sealed class Manager : MemoryManager<byte>
    {
        private void* _pointer;

        public Manager(int capacity)
        {
            Capacity = capacity;
            _pointer = NativeMemory.AlignedAlloc((nuint)capacity * sizeof(long), 64);
        }

        public int Capacity { get; }

        public long* Pointer => _pointer != null ? (long*)_pointer : throw new ObjectDisposedException(nameof(ConstantInt64Column));

        public override Span<byte> GetSpan() => new(Pointer, Capacity * sizeof(long));

        public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)Pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
            if (_pointer != null)
            {
                NativeMemory.AlignedFree(_pointer);
                _pointer = null;
            }
        }
    }
}
