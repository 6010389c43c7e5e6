using System.Text.Json;
using TimeFusion.Tables;

namespace TimeFusion.Wal;

/// <summary>
/// The identity file of a WAL folder: the full project and table names, as JSON. Folder names are hashes for
/// names that are not plain, so two names could share a folder; the file is written (put-if-absent) on the first
/// open and compared on every open, and a mismatch is an error, never a shared log.
/// </summary>
internal static class WalIdentity
{
    /// <summary>The identity file's name inside the WAL folder.</summary>
    public const string FileName = "identity.json";

    private const int MaxBytes = 64 * 1024 * 1024;

    /// <summary>Writes the identity on first use, or checks it.</summary>
    public static async Task EnsureAsync(IWalDirectory directory, TableId id, bool hasSegments, CancellationToken cancellationToken)
    {
        var existing = await directory.ReadSmallFileAsync(FileName, MaxBytes, cancellationToken);
        if (existing is null)
        {
            if (hasSegments)
                throw new WalIdentityException(
                    $"WAL folder '{directory.Describe}' holds segments but no {FileName}: refusing to adopt a log whose owner is unknown");
            if (await directory.CreateFileAsync(FileName, Serialize(id), cancellationToken)) return;
            // Another opener created it first: it must be ours.
            existing = await directory.ReadSmallFileAsync(FileName, MaxBytes, cancellationToken)
                       ?? throw new WalIdentityException($"{FileName} in '{directory.Describe}' vanished while opening the log");
        }
        var (project, table) = Parse(existing, directory.Describe);
        if (project != id.Project || table != id.Table)
        {
            throw new WalIdentityException(
                $"WAL folder '{directory.Describe}' belongs to project '{Shorten(project)}' table '{Shorten(table)}', " +
                $"not to project '{Shorten(id.Project)}' table '{Shorten(id.Table)}' (their folder names collide)");
        }
    }

    internal static byte[] Serialize(TableId id)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("format", 1);
            json.WriteString("project", id.Project);
            json.WriteString("table", id.Table);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static (string Project, string Table) Parse(byte[] bytes, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new WalIdentityException($"{FileName} in '{where}' is not a JSON object");
            if (!root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Number || !format.TryGetInt32(out var version) || version != 1)
                throw new WalIdentityException($"{FileName} in '{where}' has no supported 'format' (expected 1)");
            if (!root.TryGetProperty("project", out var project) || project.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("table", out var table) || table.ValueKind != JsonValueKind.String)
                throw new WalIdentityException($"{FileName} in '{where}' lacks the 'project' and 'table' strings");
            return (project.GetString()!, table.GetString()!);
        }
        catch (JsonException e)
        {
            throw new WalIdentityException($"{FileName} in '{where}' is not valid JSON: {e.Message}", e);
        }
    }

    private static string Shorten(string name) => name.Length > 200 ? name[..200] + "…" : name;
}
