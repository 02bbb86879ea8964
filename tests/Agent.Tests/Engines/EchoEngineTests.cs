using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.Tests.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Tests.Engines;

/// <summary>
/// A service engine and a command kind registered from the test project only (<see cref="EchoEngine"/>,
/// <c>echo.apply</c>) run through the real service manager, exec runtime, command executor and
/// <see cref="ConfigApplier"/>: install, a change that goes live, one its validation refuses (nothing live changes),
/// one whose health check fails (rolled back: the previous file is back and served again), one while stopped.
/// Nothing in the agent names the echo kind.
/// </summary>
public sealed class EchoEngineTests : IAsyncLifetime
{
    private readonly TempDir _temp = new();
    private readonly ServiceManager _manager;
    private readonly CommandExecutor _executor;

    public EchoEngineTests()
    {
        var bin = _temp.Combine("bin");
        EchoEngine.InstallDaemon(bin);
        var engines = new ServiceEngines([.. ServiceEngines.BuiltIn.All, new EchoEngine()]);
        var options = new ServiceManagerOptions { StateDirectory = _temp.Combine("state"), ServerId = "echo-test", StopGrace = TimeSpan.FromSeconds(2) };
        _manager = new ServiceManager(options, _ => new ExecRuntime(bin, NullLogger.Instance, engines), TimeProvider.System, NullLogger<ServiceManager>.Instance, engines);
        var store = new CompletedCommandStore(_temp.Combine("commands.json"));
        _executor = new CommandExecutor([new EchoApplyCommandHandler(_manager)], store, TimeProvider.System, NullLogger<CommandExecutor>.Instance);
    }

    private ServiceLayout Layout => _manager.Engines.Layout(_manager.ServicesRoot, EchoEngine.EngineKind);

    [Fact]
    public async Task A_test_engine_installs_applies_refuses_and_rolls_back_through_the_generic_applier()
    {
        var installed = await _manager.InstallAsync(new ServiceInstallArgs(EchoEngine.EngineKind, RuntimeNames.Exec), CancellationToken.None);
        Assert.Equal((ServiceStates.Running, "1.0"), (installed.Service!.State, installed.Service.Version));
        Assert.Contains(installed.Steps, s => s.Contains("the install's greeting", StringComparison.Ordinal));
        Assert.Equal("hello from the install\n", await File.ReadAllTextAsync(EchoEngine.Served(Layout)));

        // A change goes live: validated, switched, reloaded, served.
        var live = await ApplyAsync("c1", "version one\n", 1);
        Assert.True(live.Success, live.Error);
        Assert.Equal("Live", Outcome(live));
        Assert.Equal("version one\n", await File.ReadAllTextAsync(EchoEngine.Served(Layout)));
        Assert.Equal("version one\n", await File.ReadAllTextAsync(Layout.ConfigFile));
        Assert.Equal("1", await File.ReadAllTextAsync(EchoEngine.AppliedVersionFile(Layout)));

        // The same again: nothing to do.
        Assert.Equal("AlreadyLive", Outcome(await ApplyAsync("c2", "version one\n", 1)));

        // Refused by validation: nothing live changes, no staging left.
        var refused = await ApplyAsync("c3", "invalid two\n", 2);
        Assert.False(refused.Success);
        Assert.Contains("'invalid' is not allowed", refused.Error, StringComparison.Ordinal);
        Assert.Equal("version one\n", await File.ReadAllTextAsync(Layout.ConfigFile));
        Assert.False(Directory.Exists(Path.Combine(Layout.Directory, ConfigApplier.StagingDirectoryName)), "staging removed");

        // Passes validation, fails the health check: rolled back to version 1, which is served again.
        var unhealthy = await ApplyAsync("c4", "unhealthy three\n", 3);
        Assert.False(unhealthy.Success);
        Assert.Equal("RolledBack", Outcome(unhealthy));
        Assert.Contains("health check failed: echo serves 'refusing an unhealthy configuration'", unhealthy.Error, StringComparison.Ordinal);
        Assert.EndsWith("rolled back to version 1", unhealthy.Error, StringComparison.Ordinal);
        Assert.Equal("version one\n", await File.ReadAllTextAsync(Layout.ConfigFile));
        Assert.Equal("version one\n", await File.ReadAllTextAsync(EchoEngine.Served(Layout)));
        Assert.Equal("1", await File.ReadAllTextAsync(EchoEngine.AppliedVersionFile(Layout)));
        Assert.False(File.Exists(Layout.ConfigFile + ".prev"), "the previous file was moved back, not copied");

        // Stopped: switched and recorded, served from the next start (the engine keeps the applied file).
        await _manager.StopAsync(EchoEngine.EngineKind, CancellationToken.None);
        Assert.Equal("NotRunning", Outcome(await ApplyAsync("c5", "version four\n", 4)));
        await _manager.StartAsync(EchoEngine.EngineKind, CancellationToken.None);
        await ServiceTestHost.EventuallyAsync(async () => await File.ReadAllTextAsync(EchoEngine.Served(Layout)) == "version four\n", "version four served after the start");

        // A command retried with its id is answered from the store, not applied twice.
        var again = await ApplyAsync("c1", "version one\n", 1);
        Assert.Equal("Live", Outcome(again));
        Assert.Equal("version four\n", await File.ReadAllTextAsync(Layout.ConfigFile));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try
        {
            await _manager.RemoveAsync(EchoEngine.EngineKind, CancellationToken.None);
        }
        catch (ServiceCommandException)
        {
        }

        ServiceTestHost.KillDaemonsOf(_temp.Path);
        await _manager.DisposeAsync();
        _temp.Dispose();
    }

    private static string? Outcome(CommandResult result) => result.Output?.GetProperty("outcome").GetString();

    private Task<CommandResult> ApplyAsync(string id, string text, int version) =>
        _executor.ExecuteAsync(
            new AgentCommand(id, EchoApplyCommandHandler.CommandKind, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), JsonSerializer.SerializeToElement(new EchoApplyArgs(text, version), JsonSerializerOptions.Web)),
            CancellationToken.None);
}
