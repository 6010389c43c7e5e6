using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// Which PostgreSQL type an Arrow field is sent as (RowDescription, COPY), and the Arrow field a PostgreSQL
/// type is parsed into. Strings marked JSON become <c>jsonb</c>; 16-byte UUID fields <c>uuid</c>; lists
/// of a supported element type become one-dimensional arrays.
/// </summary>
public static class PgTypeMapping
{
    /// <summary>The PostgreSQL type for an Arrow field, or null when it has none.</summary>
    public static PgType? TryForField(Field field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (PgArrowMetadata.IsUuid(field))
        {
            return PgType.Uuid;
        }
        if (PgArrowMetadata.IsBool8(field))
        {
            return PgType.Bool;
        }
        if (PgArrowMetadata.IsHugeInt(field, out _))
        {
            return PgType.Numeric;
        }
        var type = field.DataType;
        if (type is ExtensionType ext)
        {
            if (ext.Name == PgArrowMetadata.JsonExtensionName)
            {
                return PgType.Jsonb;
            }
            type = ext.StorageType;
        }
        switch (type)
        {
            case BooleanType:
                return PgType.Bool;
            case Int8Type or UInt8Type or Int16Type:
                return PgType.Int2;
            case UInt16Type or Int32Type:
                return PgType.Int4;
            case UInt32Type or Int64Type:
                return PgType.Int8;
            case UInt64Type:
                return PgType.Numeric;
            case HalfFloatType or FloatType:
                return PgType.Float4;
            case DoubleType:
                return PgType.Float8;
            case Decimal32Type or Decimal64Type or Decimal128Type or Decimal256Type:
                return PgType.Numeric;
            case StringType or LargeStringType or StringViewType:
                return PgArrowMetadata.IsJson(field) ? PgType.Jsonb : PgType.Text;
            case BinaryType or LargeBinaryType or BinaryViewType or FixedSizeBinaryType:
                return PgType.Bytea;
            case Date32Type or Date64Type:
                return PgType.Date;
            case Time32Type or Time64Type:
                return PgType.Time;
            case TimestampType ts:
                return string.IsNullOrEmpty(ts.Timezone) ? PgType.Timestamp : PgType.Timestamptz;
            case DurationType or IntervalType:
                return PgType.Interval;
            case NullType:
                return PgType.Text;
            case DictionaryType dict:
                return TryForField(new Field(field.Name, dict.ValueType, field.IsNullable, field.HasMetadata ? field.Metadata : null));
            case ListType or LargeListType or FixedSizeListType:
            {
                var element = ((NestedType)type).Fields[0];
                var elementType = TryForField(element);
                return elementType is null || elementType.IsArray ? null : PgType.ArrayOfElement(elementType);
            }
            default:
                return null;
        }
    }

    /// <summary>The PostgreSQL type for an Arrow field.</summary>
    /// <exception cref="PostgresErrorException">0A000 when the Arrow type has no PostgreSQL counterpart here.</exception>
    public static PgType ForField(Field field) =>
        TryForField(field) ?? throw new PostgresErrorException(SqlState.FeatureNotSupported,
            $"column \"{field.Name}\" has Arrow type {field.DataType.Name}, which cannot be sent over the PostgreSQL protocol");

    /// <summary>The Arrow field values of a PostgreSQL type are held in (for COPY targets and descriptions).</summary>
    /// <exception cref="PostgresErrorException">0A000 for a type without an Arrow counterpart here.</exception>
    public static Field ToArrowField(string name, PgType type, bool nullable = true)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.Oid == PgType.Json.Oid || type.Oid == PgType.Jsonb.Oid)
        {
            return PgArrowMetadata.JsonField(name, nullable);
        }
        if (type.Oid == PgType.Uuid.Oid)
        {
            return PgArrowMetadata.UuidField(name, nullable);
        }
        if (type.Element is { } element)
        {
            return new Field(name, new ListType(ToArrowField("item", element)), nullable);
        }
        IArrowType arrow = type.Oid switch
        {
            16 => BooleanType.Default,
            21 => Int16Type.Default,
            23 => Int32Type.Default,
            20 => Int64Type.Default,
            700 => FloatType.Default,
            701 => DoubleType.Default,
            1700 => new Decimal128Type(38, 10),
            25 or 1043 or 1042 or 19 or 18 or 705 => StringType.Default,
            17 => BinaryType.Default,
            1082 => Date32Type.Default,
            1083 => new Time64Type(TimeUnit.Microsecond),
            1114 => new TimestampType(TimeUnit.Microsecond, (string?)null),
            1184 => new TimestampType(TimeUnit.Microsecond, "UTC"),
            1186 => DurationType.Microsecond,
            _ => throw new PostgresErrorException(SqlState.FeatureNotSupported, $"type {type.Name} has no Arrow counterpart"),
        };
        return new Field(name, arrow, nullable);
    }
}
