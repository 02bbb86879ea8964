namespace ManagedServers.Silo.Tests.E2E;

/// <summary>A test class with its own silo process and scratch directory, removed afterwards.</summary>
public abstract class SiloTestBase(string prefix, IDictionary<string, string>? siloArgs = null) : IAsyncLifetime
{
    protected string Dir { get; } = Path.Combine(Path.GetTempPath(), $"ms-{prefix}-" + Guid.NewGuid().ToString("N")[..10]);

    protected SiloProcess Silo { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Silo = new SiloProcess(Path.Combine(Dir, "silo"), siloArgs);
        await Silo.StartAsync();
    }

    public virtual async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        try
        {
            Directory.Delete(Dir, true);
        }
        catch (IOException)
        {
        }
    }
}
