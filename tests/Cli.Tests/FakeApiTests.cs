namespace ManagedServers.Cli.Tests;

/// <summary>A test class with its own fake API and CLI host; <paramref name="useApi"/> points the CLI at the fake.</summary>
public abstract class FakeApiTests(bool useApi = true) : IAsyncLifetime, IDisposable
{
    internal CliTestHost Cli { get; } = new();

    internal FakeApi Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Api = await FakeApi.StartAsync();
        if (useApi)
        {
            Cli.UseApi(Api);
        }
    }

    public async Task DisposeAsync() => await Api.DisposeAsync();

    public void Dispose()
    {
        Cli.Dispose();
        GC.SuppressFinalize(this);
    }
}
