namespace TimeFusion.Tables;

/// <summary>A table schema, or a batch checked against one, is invalid. The message says what and where.</summary>
public sealed class SchemaException(string message) : Exception(message);
