using TimeFusion.Silo.Protocol.Postgres.Sql;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>A statement created by Parse (named, or the unnamed one).</summary>
internal sealed class PreparedStatement(string name, ClassifiedStatement statement, PgType?[] parameterHints, int parameterCount)
{
    public string Name { get; } = name;

    public ClassifiedStatement Statement { get; } = statement;

    /// <summary>Types the client declared in Parse (null where it left them unspecified).</summary>
    public PgType?[] ParameterHints { get; } = parameterHints;

    /// <summary>How many parameters the statement takes (<c>max($n)</c>, or the declared count if larger).</summary>
    public int ParameterCount { get; } = parameterCount;

    /// <summary>What the backend said at Describe (cached).</summary>
    public StatementDescription? Description
    {
        get;
        set
        {
            field = value;
            _types = null; // described types may fill the undeclared ones
        }
    }

    private PgType?[]? _types;

    /// <summary>
    /// <see cref="ParameterType"/> of every parameter, worked out once per description: a Bind of a 30-row INSERT
    /// reads 450 of them.
    /// </summary>
    public PgType?[] ParameterTypes()
    {
        if (_types is { } types) return types;
        types = new PgType?[ParameterCount];
        for (var i = 0; i < types.Length; i++) types[i] = ParameterType(i);
        return _types = types;
    }

    /// <summary>The parameter types: declared, else described, else null (text sent as a string).</summary>
    public PgType? ParameterType(int index)
    {
        var hint = index < ParameterHints.Length ? ParameterHints[index] : null;
        if (hint is not null && hint.Oid != PgType.Unknown.Oid)
        {
            return hint;
        }
        // Declared "unknown" (or an OID this layer does not know): the backend's inference, else text.
        return Description is { } d && index < d.ParameterTypes.Count ? d.ParameterTypes[index] : hint;
    }
}
