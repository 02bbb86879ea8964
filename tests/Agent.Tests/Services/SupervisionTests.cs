using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ManagedServers.Agent.Tests.Services;

/// <summary>Crash detection and restart backoff of <see cref="ServiceManager"/>, with a fake runtime and fake time.</summary>
public sealed class SupervisionTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly TempDir _temp = new();
    private readonly FakeRuntime _runtime = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Crashed_service_is_failed_then_restarted_with_doubling_backoff_that_resets_after_a_stable_minute()
    {
        var manager = await InstalledAsync(ServiceStates.Running);
        Assert.Equal(ServiceStates.Running, Dns(manager).State);

        // Crash 1: failed at once, restarted after 1 s.
        var crashedAt = _time.GetUtcNow();
        _runtime.Crash(ServiceKinds.Dns);
        await manager.SuperviseOnceAsync(CancellationToken.None);
        var failed = Dns(manager);
        Assert.Equal(ServiceStates.Failed, failed.State);
        Assert.Equal(crashedAt, failed.Since);
        Assert.Equal("killed by signal 9", failed.Error);
        Assert.Equal(0, failed.RestartCount);
        Assert.Equal(1, await RestartAfterAsync(manager, TimeSpan.FromSeconds(1)));

        // Crash 2 (before running a minute): 2 s; crash 3: 4 s.
        _runtime.Crash(ServiceKinds.Dns);
        await manager.SuperviseOnceAsync(CancellationToken.None);
        Assert.Equal(2, await RestartAfterAsync(manager, TimeSpan.FromSeconds(2)));
        _runtime.Crash(ServiceKinds.Dns);
        await manager.SuperviseOnceAsync(CancellationToken.None);
        Assert.Equal(3, await RestartAfterAsync(manager, TimeSpan.FromSeconds(4)));

        // Runs a minute: the backoff starts over at 1 s.
        _time.Advance(TimeSpan.FromSeconds(60));
        await manager.SuperviseOnceAsync(CancellationToken.None);
        _runtime.Crash(ServiceKinds.Dns);
        await manager.SuperviseOnceAsync(CancellationToken.None);
        Assert.Equal(4, await RestartAfterAsync(manager, TimeSpan.FromSeconds(1)));

        // The count is persisted.
        var saved = new ServicesFile(Path.Combine(_temp.Path, "services.json")).Read();
        Assert.Equal(4, Assert.Single(saved.Services).RestartCount);
        Assert.Equal(RuntimeNames.Exec, saved.Runtime);
    }

    [Fact]
    public async Task Failing_starts_back_off_up_to_the_maximum()
    {
        var manager = await InstalledAsync(ServiceStates.Running);
        _runtime.FailStarts = true;
        _runtime.Crash(ServiceKinds.Dns);
        await manager.SuperviseOnceAsync(CancellationToken.None);
        var startsBefore = _runtime.Starts;

        // Attempts at 1, 2, 4, 8, 16, 32, 60, 60 s: each attempt fails and doubles the wait.
        foreach (var seconds in new[] { 1, 2, 4, 8, 16, 32, 60, 60 })
        {
            var attempts = _runtime.Attempts;
            _time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(100));
            await manager.SuperviseOnceAsync(CancellationToken.None);
            Assert.Equal(attempts, _runtime.Attempts);
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await manager.SuperviseOnceAsync(CancellationToken.None);
            Assert.Equal(attempts + 1, _runtime.Attempts);
            Assert.Equal("cannot start (fake)", Dns(manager).Error);
        }

        Assert.Equal(startsBefore, _runtime.Starts);
        Assert.Equal(ServiceStates.Failed, Dns(manager).State);
        Assert.Equal(TimeSpan.FromSeconds(60), manager.BackoffDelay(30));

        _runtime.FailStarts = false;
        _time.Advance(TimeSpan.FromSeconds(60));
        await manager.SuperviseOnceAsync(CancellationToken.None);
        Assert.Equal(ServiceStates.Running, Dns(manager).State);
        Assert.Equal(1, Dns(manager).RestartCount); // failed attempts are not restarts
    }

    [Fact]
    public async Task A_service_stopped_on_purpose_is_not_restarted()
    {
        var manager = await InstalledAsync(ServiceStates.Stopped);
        await manager.SuperviseOnceAsync(CancellationToken.None);
        _runtime.Crash(ServiceKinds.Dns);
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(10));
            await manager.SuperviseOnceAsync(CancellationToken.None);
        }

        Assert.Equal(ServiceStates.Stopped, Dns(manager).State);
        Assert.Equal(0, Dns(manager).RestartCount);
    }

    /// <summary>Advances to just before <paramref name="delay"/> (no restart yet), then to it; returns the restart count.</summary>
    private async Task<int> RestartAfterAsync(ServiceManager manager, TimeSpan delay)
    {
        var starts = _runtime.Starts;
        _time.Advance(delay - TimeSpan.FromMilliseconds(100));
        await manager.SuperviseOnceAsync(CancellationToken.None);
        Assert.Equal(ServiceStates.Failed, Dns(manager).State);
        Assert.Equal(starts, _runtime.Starts);

        _time.Advance(TimeSpan.FromMilliseconds(100));
        await manager.SuperviseOnceAsync(CancellationToken.None);
        var status = Dns(manager);
        Assert.Equal(ServiceStates.Running, status.State);
        Assert.Equal(_time.GetUtcNow(), status.Since);
        Assert.Null(status.Error);
        Assert.Equal(starts + 1, _runtime.Starts);
        return status.RestartCount;
    }

    private async Task<ServiceManager> InstalledAsync(string desired)
    {
        new ServicesFile(Path.Combine(_temp.Path, "services.json")).Write(new ServicesFileContent(
            ServicesFile.FormatVersion,
            RuntimeNames.Exec,
            [new InstalledService(ServiceKinds.Dns, RuntimeNames.Exec, "1.0", null, "127.0.0.1", 5353, desired, 0, _time.GetUtcNow())]));
        var manager = new ServiceManager(
            new ServiceManagerOptions { StateDirectory = _temp.Path, ServerId = "fake" },
            _ => _runtime,
            _time,
            NullLogger<ServiceManager>.Instance);
        await manager.ReconcileAsync(CancellationToken.None);
        return manager;
    }

    private static ServiceStatus Dns(ServiceManager manager) => manager.Status(ServiceKinds.Dns)!;
}
