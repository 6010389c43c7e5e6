using System.Text.Json.Serialization;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>The metadata of a DoPut acknowledgement: the batch's rows and the LSN it became durable at.</summary>
/// <param name="Rows">Rows in the acknowledged batch.</param>
/// <param name="Lsn">The log sequence number of the batch in its table.</param>
public sealed record PutAck([property: JsonPropertyName("rows")] long Rows, [property: JsonPropertyName("lsn")] long Lsn);

/// <summary>Source-generated JSON for <see cref="PutAck"/>.</summary>
[JsonSerializable(typeof(PutAck))]
public sealed partial class PutAckJson : JsonSerializerContext;
