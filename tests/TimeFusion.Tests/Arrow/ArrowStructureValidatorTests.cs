using System.Runtime.InteropServices;
using CsCheck;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Arrow;
using TimeFusion.Tests.Wal;

namespace TimeFusion.Tests.Arrow;

public sealed class ArrowStructureValidatorTests
{
    private static ArrowBuffer Ints(params int[] values) => new(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static ArrowBuffer Longs(params long[] values) => new(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static ArrowBuffer Bytes(params byte[] values) => new(values);

    private static ArrowBuffer Utf8(string s) => new(System.Text.Encoding.UTF8.GetBytes(s));

    private static void Invalid(ArrayData data, string expected)
    {
        var e = Assert.Throws<ArrowValidationException>(() => ArrowStructureValidator.Validate(ArrowArrayFactory.BuildArray(data)));
        Assert.Contains(expected, e.Message);
    }

    private static void Valid(ArrayData data) => ArrowStructureValidator.Validate(ArrowArrayFactory.BuildArray(data));

    [Fact]
    public void A_decrease_anywhere_in_long_offsets_is_found_and_named_by_the_vectorized_check()
    {
        // Offsets are checked a vector at a time: a decrease at any position — first, last, a vector's edge — in any
        // slice must still be found, at the element a scalar check names, and non-decreasing runs (equal offsets
        // are empty values) must pass.
        Gen.Select(Gen.Int[0, 3].Array[2, 80], Gen.Int[-1, 79], Gen.Int[0, 5]).Sample((steps, broken, offset) =>
        {
            var offsets = new int[steps.Length];
            for (var i = 1; i < offsets.Length; i++) offsets[i] = offsets[i - 1] + steps[i];
            var at = broken >= 1 && broken < offsets.Length && offsets[broken] > 0 ? broken : -1;
            if (at > 0) offsets[at] = offsets[at - 1] - 1 - steps[at] % 2;
            if (at > 0 && offsets[at] < 0) at = -1; // a negative offset fails first, for another reason
            if (at < 0) for (var i = 1; i < offsets.Length; i++) offsets[i] = Math.Max(offsets[i], offsets[i - 1]);
            var slice = Math.Min(offset, offsets.Length - 2);
            var length = offsets.Length - 1 - slice;
            var data = new ArrayData(StringType.Default, length, 0, slice, [ArrowBuffer.Empty, Ints(offsets), Utf8(new string('a', offsets.Max()))]);
            if (at > slice) Invalid(data, $"offsets decrease at {at} (");
            else if (at < 0) Valid(data);
        }, iter: 2_000);
    }

    [Fact]
    public void Well_formed_batches_of_every_nesting_pass_whole_and_sliced()
    {
        var batch = WalTestData.ComplexBatch(300, 4);
        ArrowStructureValidator.Validate(batch);
        for (var c = 0; c < batch.ColumnCount; c++)
        {
            ArrowStructureValidator.Validate(ArrowArrayFactory.Slice(batch.Column(c), 17, 100));
        }
        ArrowStructureValidator.Validate(WalTestData.ComplexBatch(0, 5));
    }

    [Fact]
    public void Primitive_values_buffer_must_cover_offset_plus_length()
    {
        Valid(new ArrayData(Int32Type.Default, 3, 0, 0, [ArrowBuffer.Empty, Ints(1, 2, 3)]));
        Invalid(new ArrayData(Int32Type.Default, 3, 0, 1, [ArrowBuffer.Empty, Ints(1, 2, 3)]), "values buffer has 12 bytes, needs 16");
        Invalid(new ArrayData(Int64Type.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(1, 2)]), "needs 16");
        Invalid(new ArrayData(BooleanType.Default, 9, 0, 0, [ArrowBuffer.Empty, Bytes(0xFF)]), "needs 2");
        Invalid(new ArrayData(new Decimal128Type(10, 2), 1, 0, 0, [ArrowBuffer.Empty, Longs(1)]), "needs 16");
    }

    [Fact]
    public void Null_counts_must_match_the_validity_bitmap()
    {
        Valid(new ArrayData(Int32Type.Default, 3, 1, 0, [Bytes(0b101), Ints(1, 2, 3)]));
        Invalid(new ArrayData(Int32Type.Default, 3, 2, 0, [Bytes(0b101), Ints(1, 2, 3)]), "null count 2 but the bitmap has 1");
        Invalid(new ArrayData(Int32Type.Default, 3, 1, 0, [ArrowBuffer.Empty, Ints(1, 2, 3)]), "no validity bitmap");
        Invalid(new ArrayData(Int32Type.Default, 9, 0, 0, [Bytes(0xFF), Ints(new int[9])]), "validity bitmap has 1 bytes, needs 2");
        Invalid(new ArrayData(Int32Type.Default, 3, 4, 0, [Bytes(0), Ints(1, 2, 3)]), "outside [0, 3]");
    }

    [Fact]
    public void String_offsets_must_be_monotonic_and_inside_the_data()
    {
        Valid(new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 2, 5), Utf8("abcde")]));
        Invalid(new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 2, 6), Utf8("abcde")]), "last offset 6 is past the end (5)");
        Invalid(new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 3, 2), Utf8("abcde")]), "offsets decrease");
        Invalid(new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(-1, 2, 5), Utf8("abcde")]), "negative offset");
        Invalid(new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 2), Utf8("abcde")]), "offsets buffer has 8 bytes, needs 12");
        Invalid(new ArrayData(StringType.Default, 1, 0, 0, [ArrowBuffer.Empty, Ints(0, 2), Bytes(0xC3, 0x28)]), "not valid UTF-8");
        Invalid(new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 2, 3), Utf8("aé")]), "inside a UTF-8 character");
        Valid(new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 1, 3), Utf8("aé")]));
        Valid(new ArrayData(BinaryType.Default, 1, 0, 0, [ArrowBuffer.Empty, Ints(0, 2), Bytes(0xC3, 0x28)]));
        Valid(new ArrayData(LargeStringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Longs(0, 2, 5), Utf8("abcde")]));
        Invalid(new ArrayData(LargeStringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Longs(0, 2, long.MaxValue), Utf8("abcde")]), "past the end");
    }

    [Fact]
    public void List_and_map_offsets_must_stay_inside_the_child()
    {
        var child = new ArrayData(Int32Type.Default, 3, 0, 0, [ArrowBuffer.Empty, Ints(1, 2, 3)]);
        Valid(new ArrayData(new ListType(Int32Type.Default), 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 1, 3)], [child]));
        Invalid(new ArrayData(new ListType(Int32Type.Default), 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 1, 4)], [child]), "past the end (3)");
        Invalid(new ArrayData(new LargeListType(Int32Type.Default), 1, 0, 0, [ArrowBuffer.Empty, Longs(0, 9)], [child]), "past the end (3)");
        var shortChild = new ArrayData(Int32Type.Default, 3, 0, 0, [ArrowBuffer.Empty, Ints(1)]);
        Invalid(new ArrayData(new ListType(Int32Type.Default), 1, 0, 0, [ArrowBuffer.Empty, Ints(0, 1)], [shortChild]), "→ item: values buffer");

        var mapType = new MapType(StringType.Default, Int32Type.Default);
        var keys = new ArrayData(StringType.Default, 2, 1, 0, [Bytes(0b01), Ints(0, 1, 1), Utf8("a")]);
        var values = new ArrayData(Int32Type.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(1, 2)]);
        var entries = new ArrayData(mapType.KeyValueType, 2, 0, 0, [ArrowBuffer.Empty], [keys, values]);
        Invalid(new ArrayData(mapType, 1, 0, 0, [ArrowBuffer.Empty, Ints(0, 2)], [entries]), "null keys");
    }

    [Fact]
    public void Struct_fixed_size_list_and_dictionary_children_must_be_long_enough()
    {
        var structType = new StructType([new Field("a", Int32Type.Default, false), new Field("b", Int32Type.Default, false)]);
        var two = new ArrayData(Int32Type.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(1, 2)]);
        var three = new ArrayData(Int32Type.Default, 3, 0, 0, [ArrowBuffer.Empty, Ints(1, 2, 3)]);
        Valid(new ArrayData(structType, 2, 0, 0, [ArrowBuffer.Empty], [two, three]));
        Invalid(new ArrayData(structType, 3, 0, 0, [ArrowBuffer.Empty], [two, three]), "→ 'a': has 2 items, the struct needs 3");
        Invalid(new ArrayData(structType, 2, 0, 0, [ArrowBuffer.Empty], [two]), "has 1 children, expected 2");

        var fixedType = new FixedSizeListType(Int32Type.Default, 2);
        Valid(new ArrayData(fixedType, 1, 0, 0, [ArrowBuffer.Empty], [two]));
        Invalid(new ArrayData(fixedType, 2, 0, 0, [ArrowBuffer.Empty], [three]), "child has 3 items, needs 4");

        var dictType = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var dictionary = new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 1, 2), Utf8("ab")]);
        Valid(new ArrayData(dictType, 3, 0, 0, [ArrowBuffer.Empty, Ints(0, 1, 1)], null, dictionary));
        Invalid(new ArrayData(dictType, 3, 0, 0, [ArrowBuffer.Empty, Ints(0, 2, 1)], null, dictionary), "index 2 at 1 is outside the dictionary");
        Invalid(new ArrayData(dictType, 1, 0, 0, [ArrowBuffer.Empty, Ints(-1)], null, dictionary), "index -1");
        // A null slot may hold any index.
        Valid(new ArrayData(dictType, 2, 1, 0, [Bytes(0b01), Ints(0, 99)], null, dictionary));
    }

    [Fact]
    public void Views_must_point_inside_their_data_buffers()
    {
        static byte[] View(int length, int buffer, int offset)
        {
            var v = new byte[16];
            BitConverter.TryWriteBytes(v, length);
            BitConverter.TryWriteBytes(v.AsSpan(8), buffer);
            BitConverter.TryWriteBytes(v.AsSpan(12), offset);
            return v;
        }
        var data = Utf8("0123456789abcdefghij");
        Valid(new ArrayData(StringViewType.Default, 1, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(View(15, 0, 5)), data]));
        Invalid(new ArrayData(StringViewType.Default, 1, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(View(15, 0, 6)), data]), "outside data buffer 0");
        Invalid(new ArrayData(StringViewType.Default, 1, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(View(15, 1, 0)), data]), "names data buffer 1 of 1");
        Invalid(new ArrayData(BinaryViewType.Default, 1, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(View(-3, 0, 0)), data]), "negative length");
        Invalid(new ArrayData(StringViewType.Default, 2, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(View(1, 0, 0)), data]), "views buffer has 16 bytes, needs 32");
    }

    [Fact]
    public void Unions_check_type_ids_and_dense_offsets()
    {
        var sparse = new UnionType([new Field("i", Int32Type.Default, true), new Field("s", StringType.Default, true)], [0, 1], UnionMode.Sparse);
        var ints = new ArrayData(Int32Type.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(1, 2)]);
        var strings = new ArrayData(StringType.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(0, 1, 2), Utf8("ab")]);
        Valid(new ArrayData(sparse, 2, 0, 0, [Bytes(0, 1)], [ints, strings]));
        Invalid(new ArrayData(sparse, 2, 0, 0, [Bytes(0, 7)], [ints, strings]), "type id 7");
        var dense = new UnionType(sparse.Fields, [0, 1], UnionMode.Dense);
        Valid(new ArrayData(dense, 2, 0, 0, [Bytes(0, 1), Ints(1, 0)], [ints, strings]));
        Invalid(new ArrayData(dense, 2, 0, 0, [Bytes(0, 1), Ints(2, 0)], [ints, strings]), "offset 2 at 0 is outside child 0");
    }

    [Fact]
    public void A_batch_whose_columns_disagree_with_it_is_refused()
    {
        var schema = new Schema.Builder().Field(new Field("a", Int32Type.Default, false)).Build();
        var column = ArrowArrayFactory.BuildArray(new ArrayData(Int32Type.Default, 2, 0, 0, [ArrowBuffer.Empty, Ints(1, 2)]));
        Assert.Contains("differs from the batch length 3",
            Assert.Throws<ArrowValidationException>(() => ArrowStructureValidator.Validate(new RecordBatch(schema, [column], 3))).Message);
        var longSchema = new Schema.Builder().Field(new Field("a", Int64Type.Default, false)).Build();
        Assert.Contains("does not match schema type",
            Assert.Throws<ArrowValidationException>(() => ArrowStructureValidator.Validate(new RecordBatch(longSchema, [column], 2))).Message);
    }

    [Fact]
    public void Unsupported_types_and_deep_nesting_are_refused()
    {
        var ree = new RunEndEncodedType(Int32Type.Default, Int32Type.Default);
        var runEnds = new ArrayData(Int32Type.Default, 1, 0, 0, [ArrowBuffer.Empty, Ints(1)]);
        Invalid(new ArrayData(ree, 1, 0, 0, [], [runEnds, runEnds]), "not supported");
        IArrowType type = Int32Type.Default;
        var data = new ArrayData(type, 0, 0, 0, [ArrowBuffer.Empty, ArrowBuffer.Empty]);
        for (var i = 0; i < 80; i++)
        {
            type = new ListType(type);
            data = new ArrayData(type, 0, 0, 0, [ArrowBuffer.Empty, Ints(0)], [data]);
        }
        Invalid(data, "nesting deeper than 64");
    }
}
