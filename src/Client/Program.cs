using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TimeFusion.Client.Sdk;
using TimeFusion.Grains;

// timefusion query "<sql>" [--gateway-port 30000] [--project P | --admin]
// The first command of the command line; ingest, gen and bench follow.
if (args.Length < 2 || args[0] != "query")
{
    Console.Error.WriteLine("usage: timefusion query \"<sql>\" [--gateway-port 30000] [--project P | --admin]");
    return 64;
}
var sql = args[1];
var port = 30000;
string? project = null;
var admin = false;
for (var i = 2; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--gateway-port": port = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--project": project = args[++i]; break;
        case "--admin": admin = true; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 64;
    }
}
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.UseOrleansClient(c => c.UseLocalhostClustering(gatewayPort: port));
using var host = builder.Build();
await host.StartAsync();
var client = new TimeFusionClient(host.Services.GetRequiredService<IClusterClient>(),
    admin ? Caller.Admin(project) : Caller.ForProject(project ?? "default"));
try
{
    var result = await client.QueryAllAsync(sql);
    Console.WriteLine(string.Join('\t', result.Schema.FieldsList.Select(f => f.Name)));
    foreach (var batch in result.Batches)
        for (var r = 0; r < batch.Length; r++)
            Console.WriteLine(string.Join('\t', Enumerable.Range(0, batch.ColumnCount).Select(c => ArrowText.Format(batch.Column(c), r))));
    Console.Error.WriteLine($"({result.RowCount} rows)");
    return 0;
}
catch (TimeFusion.Wire.TimeFusionException e)
{
    Console.Error.WriteLine($"ERROR {e.SqlState}: {e.Message}");
    return 1;
}
finally
{
    await host.StopAsync();
}
