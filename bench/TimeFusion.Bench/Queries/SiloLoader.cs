using Apache.Arrow;
using TimeFusion.Client.Sdk;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Queries;

/// <summary>Writes batches into TimeFusion through the SDK with a few calls in flight.</summary>
public static class SiloLoader
{
    /// <summary>Writes each batch to the projects <paramref name="projectsOf"/> names for its index; returns rows written.</summary>
    public static async Task<long> LoadAsync(TimeFusionClient client, IAsyncEnumerable<RecordBatch> batches, int firstIndex, Func<int, IEnumerable<string>> projectsOf, int inFlight = 4)
    {
        var pending = new List<Task>();
        long rows = 0;
        var index = firstIndex;
        await foreach (var batch in batches)
        {
            foreach (var project in projectsOf(index))
            {
                while (pending.Count >= inFlight)
                {
                    var done = await Task.WhenAny(pending);
                    pending.Remove(done);
                    await done;
                }
                pending.Add(client.InsertAsync(project, OtelLogsAndSpans.TableName, batch));
                rows += batch.Length;
            }
            index++;
        }
        await Task.WhenAll(pending);
        return rows;
    }
}
