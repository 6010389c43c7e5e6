using System.Collections.Frozen;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// A PostgreSQL built-in type as the wire protocol names it (OID, name, fixed length). Parameters arrive as
/// these CLR values: bool → <see cref="bool"/>, int2/int4/int8 → <see cref="short"/>/<see cref="int"/>/<see cref="long"/>,
/// float4/float8 → <see cref="float"/>/<see cref="double"/>, numeric → <see cref="decimal"/>,
/// text/varchar/bpchar/name/json/jsonb/unknown → <see cref="string"/>, bytea → <see cref="byte"/>[],
/// timestamp → <see cref="DateTime"/> (Unspecified), timestamptz → <see cref="DateTime"/> (Utc), date → <see cref="DateOnly"/>,
/// time → <see cref="TimeOnly"/>, interval → <see cref="TimeSpan"/>, uuid → <see cref="Guid"/>, and one-dimensional
/// arrays as <c>T?[]</c> of those (text[] → <c>string?[]</c>). Parameters of unspecified type sent as text arrive as strings.
/// </summary>
public sealed class PgType
{
    private PgType(uint oid, string name, short length, uint elementOid = 0)
    {
        Oid = oid;
        Name = name;
        Length = length;
        ElementOid = elementOid;
    }

    /// <summary>The type OID.</summary>
    public uint Oid { get; }

    /// <summary>The type name (<c>pg_type.typname</c>).</summary>
    public string Name { get; }

    /// <summary>The fixed size in bytes, or -1 for variable length (<c>pg_type.typlen</c>).</summary>
    public short Length { get; }

    /// <summary>For array types, the element type OID; otherwise 0.</summary>
    public uint ElementOid { get; }

    /// <summary>For array types, the element type.</summary>
    public PgType? Element => ElementOid == 0 ? null : FromOid(ElementOid);

    /// <summary>Whether this is an array type.</summary>
    public bool IsArray => ElementOid != 0;

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Oid})";

#pragma warning disable CS1591 // the well-known types are self-describing
    public static readonly PgType Bool = new(16, "bool", 1);
    public static readonly PgType Bytea = new(17, "bytea", -1);
    public static readonly PgType Char = new(18, "char", 1);
    public static readonly PgType NameType = new(19, "name", 64);
    public static readonly PgType Int8 = new(20, "int8", 8);
    public static readonly PgType Int2 = new(21, "int2", 2);
    public static readonly PgType Int4 = new(23, "int4", 4);
    public static readonly PgType Text = new(25, "text", -1);
    public static readonly PgType OidType = new(26, "oid", 4);
    public static readonly PgType Json = new(114, "json", -1);
    public static readonly PgType Float4 = new(700, "float4", 4);
    public static readonly PgType Float8 = new(701, "float8", 8);
    public static readonly PgType Unknown = new(705, "unknown", -2);
    public static readonly PgType BoolArray = new(1000, "_bool", -1, 16);
    public static readonly PgType ByteaArray = new(1001, "_bytea", -1, 17);
    public static readonly PgType Int2Array = new(1005, "_int2", -1, 21);
    public static readonly PgType Int4Array = new(1007, "_int4", -1, 23);
    public static readonly PgType TextArray = new(1009, "_text", -1, 25);
    public static readonly PgType BpcharArray = new(1014, "_bpchar", -1, 1042);
    public static readonly PgType VarcharArray = new(1015, "_varchar", -1, 1043);
    public static readonly PgType Int8Array = new(1016, "_int8", -1, 20);
    public static readonly PgType Float4Array = new(1021, "_float4", -1, 700);
    public static readonly PgType Float8Array = new(1022, "_float8", -1, 701);
    public static readonly PgType Bpchar = new(1042, "bpchar", -1);
    public static readonly PgType Varchar = new(1043, "varchar", -1);
    public static readonly PgType Date = new(1082, "date", 4);
    public static readonly PgType Time = new(1083, "time", 8);
    public static readonly PgType Timestamp = new(1114, "timestamp", 8);
    public static readonly PgType TimestampArray = new(1115, "_timestamp", -1, 1114);
    public static readonly PgType DateArray = new(1182, "_date", -1, 1082);
    public static readonly PgType TimeArray = new(1183, "_time", -1, 1083);
    public static readonly PgType Timestamptz = new(1184, "timestamptz", 8);
    public static readonly PgType TimestamptzArray = new(1185, "_timestamptz", -1, 1184);
    public static readonly PgType Interval = new(1186, "interval", 16);
    public static readonly PgType IntervalArray = new(1187, "_interval", -1, 1186);
    public static readonly PgType NumericArray = new(1231, "_numeric", -1, 1700);
    public static readonly PgType Numeric = new(1700, "numeric", -1);
    public static readonly PgType Uuid = new(2950, "uuid", 16);
    public static readonly PgType UuidArray = new(2951, "_uuid", -1, 2950);
    public static readonly PgType Jsonb = new(3802, "jsonb", -1);
    public static readonly PgType JsonArray = new(199, "_json", -1, 114);
    public static readonly PgType JsonbArray = new(3807, "_jsonb", -1, 3802);
#pragma warning restore CS1591

    private static readonly FrozenDictionary<uint, PgType> ByOid = new[]
    {
        Bool, Bytea, Char, NameType, Int8, Int2, Int4, Text, OidType, Json, Float4, Float8, Unknown,
        BoolArray, ByteaArray, Int2Array, Int4Array, TextArray, BpcharArray, VarcharArray, Int8Array, Float4Array, Float8Array,
        Bpchar, Varchar, Date, Time, Timestamp, TimestampArray, DateArray, TimeArray, Timestamptz, TimestamptzArray,
        Interval, IntervalArray, NumericArray, Numeric, Uuid, UuidArray, Jsonb, JsonArray, JsonbArray,
    }.ToFrozenDictionary(t => t.Oid);

    private static readonly FrozenDictionary<uint, PgType> ArrayOf = ByOid.Values
        .Where(t => t.IsArray).ToFrozenDictionary(t => t.ElementOid);

    /// <summary>The built-in type with this OID, or null when this layer does not know it.</summary>
    public static PgType? FromOid(uint oid) => ByOid.GetValueOrDefault(oid);

    /// <summary>The array type whose elements are <paramref name="element"/>, or null.</summary>
    public static PgType? ArrayOfElement(PgType element) => ArrayOf.GetValueOrDefault(element.Oid);

    /// <summary>Every type this layer knows (for catalog answers such as <c>pg_type</c>).</summary>
    public static IEnumerable<PgType> All => ByOid.Values;
}
