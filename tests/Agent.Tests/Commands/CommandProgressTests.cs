using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Tests.Commands;

/// <summary>Steps a command reports while it runs show in the progress board (heartbeats), and leave it when it ends.</summary>
public sealed class CommandProgressTests
{
    private sealed class SteppingHandler(TaskCompletionSource release) : ICommandHandler
    {
        public string Kind => "test.steps";

        public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
        {
            var steps = new StepLog { "first" };
            steps.Add("second");
            await release.Task.WaitAsync(cancellationToken);
            return new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow);
        }
    }

    [Fact]
    public async Task A_running_command_reports_its_steps_and_leaves_the_board_when_done()
    {
        using var temp = new TempDir();
        var board = new CommandProgressBoard();
        var nudges = 0;
        board.Changed = () => Interlocked.Increment(ref nudges);
        var release = new TaskCompletionSource();
        var executor = new CommandExecutor([new SteppingHandler(release)], new CompletedCommandStore(temp.Combine("commands.json"), 10), TimeProvider.System, NullLogger<CommandExecutor>.Instance, board);
        var command = new AgentCommand("cmd-1", "test.steps", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1));

        var running = executor.ExecuteAsync(command, CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<CommandProgress>? snapshot = null;
        while (DateTime.UtcNow < deadline && (snapshot = board.Snapshot()) is not [{ Steps.Count: 2 }])
        {
            await Task.Delay(20);
        }

        var progress = Assert.Single(snapshot!);
        Assert.Equal("cmd-1", progress.CommandId);
        Assert.Equal(["first", "second"], progress.Steps);
        Assert.Equal(40, progress.Percent);
        Assert.True(nudges >= 2);

        release.SetResult();
        Assert.True((await running).Success);
        Assert.Null(board.Snapshot());

        // Outside a command, a step log reports nowhere.
        _ = new StepLog { "not in a command" };
        Assert.Null(board.Snapshot());
    }
}
