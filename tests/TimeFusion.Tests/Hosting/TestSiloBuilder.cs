using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace TimeFusion.Tests.Hosting;

/// <summary>An <see cref="ISiloBuilder"/> over a plain service collection and in-memory keys, to see what the extensions register.</summary>
internal sealed class TestSiloBuilder : ISiloBuilder
{
    public TestSiloBuilder(IReadOnlyDictionary<string, string?> settings)
    {
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        Services.AddSingleton(Configuration);
    }

    public IConfiguration Configuration { get; }

    public IServiceCollection Services { get; } = new ServiceCollection();
}
