using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ManagedServers.Agent.Tests;

public sealed class CommandStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Redelivered_command_is_not_executed_again_and_gets_the_stored_result()
    {
        using var temp = new TempDir();
        var handler = new CountingHandler();
        var executor = Executor(new CompletedCommandStore(temp.Combine("commands.json")), handler);
        var command = Command("c-1", "count");

        var first = await executor.ExecuteAsync(command, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5));
        var second = await executor.ExecuteAsync(command, CancellationToken.None);

        Assert.Equal(1, handler.Executions);
        Assert.Same(first, second);
        Assert.True(first.Success);
    }

    [Fact]
    public async Task Completed_ids_survive_a_reload()
    {
        using var temp = new TempDir();
        var file = temp.Combine("commands.json");
        var handler = new CountingHandler();
        var first = await Executor(new CompletedCommandStore(file), handler).ExecuteAsync(Command("c-1", "count"), CancellationToken.None);

        var reloaded = new CompletedCommandStore(file);
        Assert.Null(reloaded.LoadError);
        var again = await Executor(reloaded, handler).ExecuteAsync(Command("c-1", "count"), CancellationToken.None);

        Assert.Equal(1, handler.Executions);
        Assert.Equal(first.CompletedAt, again.CompletedAt);
        Assert.Equal(first.Output!.Value.GetRawText(), again.Output!.Value.GetRawText());
        Assert.Equal(AtomicFileMode, File.GetUnixFileMode(file));
    }

    [Fact]
    public void Store_keeps_only_the_newest_entries()
    {
        using var temp = new TempDir();
        var file = temp.Combine("commands.json");
        var store = new CompletedCommandStore(file, capacity: 3);
        for (var i = 1; i <= 5; i++)
        {
            store.Add(new CommandResult($"c-{i}", true, _time.GetUtcNow()));
        }

        Assert.Equal(3, store.Count);
        Assert.False(store.TryGet("c-1", out _));
        Assert.False(store.TryGet("c-2", out _));
        Assert.True(store.TryGet("c-5", out _));

        var reloaded = new CompletedCommandStore(file, capacity: 3);
        Assert.Equal(3, reloaded.Count);
        Assert.True(reloaded.TryGet("c-3", out _));
        Assert.Empty(Directory.GetFiles(temp.Path, ".tmp-*"));
    }

    [Fact]
    public async Task A_command_id_delivered_again_while_it_runs_shares_the_running_execution()
    {
        using var temp = new TempDir();
        var handler = new BlockingHandler();
        var executor = Executor(new CompletedCommandStore(temp.Combine("commands.json")), handler);
        var command = Command("c-slow", "block");

        var first = executor.ExecuteAsync(command, CancellationToken.None);
        await handler.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = executor.ExecuteAsync(command, CancellationToken.None);

        Assert.Same(first, second);
        Assert.Equal(1, executor.InFlight);
        Assert.False(first.IsCompleted);
        handler.Release.SetResult();
        var results = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, handler.Executions);
        Assert.Same(results[0], results[1]);
        Assert.Equal(0, executor.InFlight);
        var third = await executor.ExecuteAsync(command, CancellationToken.None);
        Assert.Same(results[0], third); // now from the completed store
        Assert.Equal(1, handler.Executions);
    }

    [Fact]
    public void Unreadable_store_starts_empty_with_a_reason()
    {
        using var temp = new TempDir();
        var file = temp.Combine("commands.json");
        File.WriteAllText(file, "{ not json");

        var store = new CompletedCommandStore(file);

        Assert.Equal(0, store.Count);
        Assert.Contains("cannot read", store.LoadError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_command_fails_without_executing()
    {
        using var temp = new TempDir();
        var handler = new CountingHandler();
        var executor = Executor(new CompletedCommandStore(temp.Combine("commands.json")), handler);
        var command = Command("c-old", "count") with { ExpiresAt = _time.GetUtcNow().AddSeconds(-1) };

        var result = await executor.ExecuteAsync(command, CancellationToken.None);

        Assert.False(result.Success);
        Assert.Equal("expired", result.Error);
        Assert.Equal(0, handler.Executions);
    }

    [Fact]
    public async Task Unknown_kind_fails_and_handler_exceptions_become_failed_results()
    {
        using var temp = new TempDir();
        var executor = Executor(new CompletedCommandStore(temp.Combine("commands.json")), new CountingHandler(), new ThrowingHandler());

        var unknown = await executor.ExecuteAsync(Command("c-1", "reboot"), CancellationToken.None);
        var thrown = await executor.ExecuteAsync(Command("c-2", "throw"), CancellationToken.None);

        Assert.False(unknown.Success);
        Assert.Equal("unknown command kind 'reboot'", unknown.Error);
        Assert.False(thrown.Success);
        Assert.Equal("boom", thrown.Error);
    }

    [Fact]
    public async Task Ping_returns_ping_output()
    {
        using var temp = new TempDir();
        var info = new AgentInfo(_time);
        _time.Advance(TimeSpan.FromSeconds(42));
        var executor = Executor(new CompletedCommandStore(temp.Combine("commands.json")), new PingCommandHandler(info, _time));

        var result = await executor.ExecuteAsync(Command("p-1", CommandKinds.Ping), CancellationToken.None);

        Assert.True(result.Success);
        var output = result.Output!.Value.Deserialize(ContractsJson.Default.PingOutput)!;
        Assert.Equal(AgentInfo.Version, output.AgentVersion);
        Assert.Equal(42, output.UptimeSeconds);
        Assert.Equal(_time.GetUtcNow(), output.AgentTime);
        Assert.True(result.Output.Value.TryGetProperty("uptime_seconds", out _));
    }

    private const UnixFileMode AtomicFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private CommandExecutor Executor(CompletedCommandStore store, params ICommandHandler[] handlers) =>
        new(handlers, store, _time, NullLogger<CommandExecutor>.Instance);

    private AgentCommand Command(string id, string kind) =>
        new(id, kind, _time.GetUtcNow(), _time.GetUtcNow().AddMinutes(5));

    internal sealed class CountingHandler : ICommandHandler
    {
        private int _executions;

        public string Kind => "count";

        public int Executions => Volatile.Read(ref _executions);

        public Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _executions);
            var output = JsonSerializer.SerializeToElement(new Dictionary<string, string?> { ["n"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ContractsJson.Default.DictionaryStringString);
            return Task.FromResult(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: output));
        }
    }

    private sealed class BlockingHandler : ICommandHandler
    {
        private int _executions;

        public string Kind => "block";

        public int Executions => Volatile.Read(ref _executions);

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _executions);
            Entered.TrySetResult();
            await Release.Task;
            return new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow);
        }
    }

    private sealed class ThrowingHandler : ICommandHandler
    {
        public string Kind => "throw";

        public Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("boom");
    }
}
