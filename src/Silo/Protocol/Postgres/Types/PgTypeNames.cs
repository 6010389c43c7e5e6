using System.Text.RegularExpressions;

namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>
/// PostgreSQL type names as SQL spells them (<c>int</c>, <c>integer</c>, <c>double precision</c>, <c>text[]</c>,
/// <c>varchar(10)</c>, <c>timestamp with time zone</c>, <c>pg_catalog.int4</c>) to the <see cref="PgType"/>, for
/// <c>PREPARE q(int, text)</c> and for parameters cast in the statement (<c>$1::int</c>).
/// </summary>
internal static partial class PgTypeNames
{
    private static readonly Dictionary<string, uint> Oids = new(StringComparer.Ordinal)
    {
        ["bool"] = 16, ["boolean"] = 16,
        ["bytea"] = 17,
        ["int8"] = 20, ["bigint"] = 20,
        ["int2"] = 21, ["smallint"] = 21,
        ["int4"] = 23, ["int"] = 23, ["integer"] = 23,
        ["text"] = 25,
        ["json"] = 114,
        ["float4"] = 700, ["real"] = 700,
        ["float8"] = 701, ["double precision"] = 701, ["float"] = 701,
        ["bpchar"] = 1042, ["char"] = 1042, ["character"] = 1042,
        ["varchar"] = 1043, ["character varying"] = 1043,
        ["date"] = 1082,
        ["time"] = 1083, ["time without time zone"] = 1083,
        ["timestamp"] = 1114, ["timestamp without time zone"] = 1114,
        ["timestamptz"] = 1184, ["timestamp with time zone"] = 1184,
        ["interval"] = 1186,
        ["numeric"] = 1700, ["decimal"] = 1700,
        ["uuid"] = 2950,
        ["jsonb"] = 3802,
    };

    /// <summary>The type named by <paramref name="text"/>, or null when this layer does not know it.</summary>
    public static PgType? Resolve(string text)
    {
        var name = Spaces().Replace(text.Trim().ToLowerInvariant(), " ");
        var array = false;
        while (name.EndsWith("[]", StringComparison.Ordinal))
        {
            array = true;
            name = name[..^2].TrimEnd();
        }
        name = Modifier().Replace(name, "").Trim().Trim('"');
        if (name.StartsWith("pg_catalog.", StringComparison.Ordinal))
        {
            name = name["pg_catalog.".Length..];
        }
        if (!Oids.TryGetValue(name, out var oid) || PgType.FromOid(oid) is not { } type)
        {
            return null;
        }
        return array ? PgType.ArrayOfElement(type) : type;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    // Type modifiers such as varchar(10) or numeric(10, 2) do not change the type.
    [GeneratedRegex(@"\s*\([^)]*\)")]
    private static partial Regex Modifier();
}
