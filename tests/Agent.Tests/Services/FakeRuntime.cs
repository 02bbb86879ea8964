using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Services;

/// <summary>A runtime whose services run until <see cref="Crash"/>; <see cref="FailStarts"/> makes starts throw.</summary>
internal sealed class FakeRuntime : IServiceRuntime
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, bool> _running = new(StringComparer.Ordinal);

    public string Name => RuntimeNames.Exec;

    public int Starts { get; private set; }

    /// <summary>Start calls, failed ones included.</summary>
    public int Attempts { get; private set; }

    public bool FailStarts { get; set; }

    public void Crash(string kind)
    {
        lock (_lock)
        {
            _running[kind] = false;
        }
    }

    public Task<string> ResolveVersionAsync(string kind, string? requested, CancellationToken cancellationToken) => Task.FromResult(requested ?? "1.0");

    public Task<IReadOnlyList<string>> AvailableVersionsAsync(string kind, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>(["1.0"]);

    public Task ValidateAsync(ServiceSpec spec, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task CreateAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _running[spec.Kind] = false;
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(string kind, CancellationToken cancellationToken)
    {
        Attempts++;
        if (FailStarts)
        {
            throw new ServiceRuntimeException("cannot start (fake)");
        }

        lock (_lock)
        {
            _running[kind] = true;
            Starts++;
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(string kind, TimeSpan grace, CancellationToken cancellationToken)
    {
        Crash(kind);
        return Task.CompletedTask;
    }

    public async Task RestartAsync(string kind, TimeSpan grace, CancellationToken cancellationToken)
    {
        await StopAsync(kind, grace, cancellationToken);
        await StartAsync(kind, cancellationToken);
    }

    public Task<RuntimeState> InspectAsync(string kind, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_running.TryGetValue(kind, out var running)
                ? new RuntimeState(true, running, running ? null : 137, running ? null : "killed by signal 9")
                : new RuntimeState(false, false));
        }
    }

    public Task<string> ReadLogTailAsync(string kind, int maxBytes, CancellationToken cancellationToken) => Task.FromResult(string.Empty);

    public Task RemoveAsync(string kind, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _running.Remove(kind);
        }

        return Task.CompletedTask;
    }

    public Task<bool> AdoptAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            // Adopts a service that "was left running".
            _running[spec.Kind] = true;
            return Task.FromResult(true);
        }
    }

    public Task RemoveOrphansAsync(IReadOnlyCollection<string> installedKinds, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<RuntimeHealth> CheckAsync(CancellationToken cancellationToken) => Task.FromResult(new RuntimeHealth(true, "fake"));

    public Task<ToolResult> RunToolAsync(string kind, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult(new ToolResult(ToolResult.NotFound, $"{argv[0]}: fake runtime"));

    public Task<ToolResult> RunToolInVersionAsync(string kind, string version, string serviceDirectory, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken) =>
        RunToolAsync(kind, argv, timeout, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
