using System.Text;
using TimeFusion.Silo.Protocol.Postgres.Types;

namespace TimeFusion.Silo.Protocol.Postgres.Wire;

/// <summary>Writes PostgreSQL v3 backend messages into an output buffer.</summary>
internal static class BackendMessages
{
    public const int ProtocolVersion30 = 3 << 16;

    public static void WriteAuthentication(this PgOutputBuffer b, int code, ReadOnlySpan<byte> data = default)
    {
        b.StartMessage((byte)'R');
        b.WriteInt32(code);
        b.WriteBytes(data);
        b.EndMessage();
    }

    public static void WriteAuthenticationSasl(this PgOutputBuffer b, string mechanism)
    {
        b.StartMessage((byte)'R');
        b.WriteInt32(10);
        b.WriteCString(mechanism);
        b.WriteByte(0);
        b.EndMessage();
    }

    public static void WriteParameterStatus(this PgOutputBuffer b, string name, string value)
    {
        b.StartMessage((byte)'S');
        b.WriteCString(name);
        b.WriteCString(value);
        b.EndMessage();
    }

    public static void WriteBackendKeyData(this PgOutputBuffer b, int processId, int secretKey)
    {
        b.StartMessage((byte)'K');
        b.WriteInt32(processId);
        b.WriteInt32(secretKey);
        b.EndMessage();
    }

    public static void WriteReadyForQuery(this PgOutputBuffer b, byte status)
    {
        b.StartMessage((byte)'Z');
        b.WriteByte(status);
        b.EndMessage();
    }

    public static void WriteNegotiateProtocolVersion(this PgOutputBuffer b, int newestVersion, IReadOnlyList<string> unrecognized)
    {
        b.StartMessage((byte)'v');
        b.WriteInt32(newestVersion);
        b.WriteInt32(unrecognized.Count);
        foreach (var option in unrecognized)
        {
            b.WriteCString(option);
        }
        b.EndMessage();
    }

    public static void WriteError(this PgOutputBuffer b, string severity, string sqlState, string message,
        string? detail = null, string? hint = null, int? position = null, string? where = null, bool notice = false)
    {
        b.StartMessage(notice ? (byte)'N' : (byte)'E');
        b.WriteByte((byte)'S');
        b.WriteCString(severity);
        b.WriteByte((byte)'V');
        b.WriteCString(severity);
        b.WriteByte((byte)'C');
        b.WriteCString(sqlState);
        b.WriteByte((byte)'M');
        b.WriteCString(message);
        if (!string.IsNullOrEmpty(detail))
        {
            b.WriteByte((byte)'D');
            b.WriteCString(detail);
        }
        if (!string.IsNullOrEmpty(hint))
        {
            b.WriteByte((byte)'H');
            b.WriteCString(hint);
        }
        if (position is > 0)
        {
            b.WriteByte((byte)'P');
            b.WriteCString(position.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (!string.IsNullOrEmpty(where))
        {
            b.WriteByte((byte)'W');
            b.WriteCString(where);
        }
        b.WriteByte(0);
        b.EndMessage();
    }

    public static void WriteCommandComplete(this PgOutputBuffer b, string tag)
    {
        b.StartMessage((byte)'C');
        b.WriteCString(tag);
        b.EndMessage();
    }

    public static void WriteRowDescription(this PgOutputBuffer b, IReadOnlyList<string> names, IReadOnlyList<PgType> types, Func<int, bool> binary)
    {
        b.StartMessage((byte)'T');
        b.WriteInt16((short)names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            b.WriteCString(names[i]);
            b.WriteInt32(0); // table OID
            b.WriteInt16(0); // column attribute number
            b.WriteInt32((int)types[i].Oid);
            b.WriteInt16(types[i].Length);
            b.WriteInt32(-1); // type modifier
            b.WriteInt16(binary(i) ? (short)1 : (short)0);
        }
        b.EndMessage();
    }

    public static void WriteRowDescription(this PgOutputBuffer b, IReadOnlyList<ColumnEncoder> encoders, IReadOnlyList<string> names) =>
        WriteRowDescription(b, names, encoders.Select(e => e.Type).ToList(), i => encoders[i].Binary);

    public static void WriteParameterDescription(this PgOutputBuffer b, IReadOnlyList<PgType> types)
    {
        b.StartMessage((byte)'t');
        b.WriteInt16((short)types.Count);
        foreach (var t in types)
        {
            b.WriteInt32((int)t.Oid);
        }
        b.EndMessage();
    }

    public static void WriteCopyResponse(this PgOutputBuffer b, byte type, bool binary, int columns)
    {
        b.StartMessage(type);
        b.WriteByte(binary ? (byte)1 : (byte)0);
        b.WriteInt16((short)columns);
        for (var i = 0; i < columns; i++)
        {
            b.WriteInt16(binary ? (short)1 : (short)0);
        }
        b.EndMessage();
    }

    /// <summary>A one-column text row (SHOW results).</summary>
    public static void WriteTextRow(this PgOutputBuffer b, params string?[] values)
    {
        b.StartMessage((byte)'D');
        b.WriteInt16((short)values.Length);
        foreach (var value in values)
        {
            if (value is null)
            {
                b.WriteInt32(-1);
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(value);
            b.WriteInt32(bytes.Length);
            b.WriteBytes(bytes);
        }
        b.EndMessage();
    }
}
