using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Commands;

/// <summary>
/// Runs commands through the handler registry, once per command id: a redelivered id gets its stored
/// result back, an expired command is answered "expired" without running, an unknown kind fails. A command id that
/// arrives again while it still runs (AMQP redelivery, a second poll) gets the same execution, not a second one.
/// </summary>
internal sealed class CommandExecutor
{
    private readonly Dictionary<string, ICommandHandler> _handlers;
    private readonly CompletedCommandStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<CommandExecutor> _logger;
    private readonly Lock _inFlightLock = new();
    private readonly Dictionary<string, Task<CommandResult>> _inFlight = new(StringComparer.Ordinal);

    private readonly CommandProgressBoard _progress;

    public CommandExecutor(IEnumerable<ICommandHandler> handlers, CompletedCommandStore store, TimeProvider time, ILogger<CommandExecutor> logger, CommandProgressBoard? progress = null)
    {
        _progress = progress ?? new CommandProgressBoard();
        _handlers = new Dictionary<string, ICommandHandler>(StringComparer.Ordinal);
        foreach (var handler in handlers)
        {
            _handlers[handler.Kind] = handler; // the last registration of a kind wins
        }

        _store = store;
        _time = time;
        _logger = logger;
    }

    public IReadOnlyCollection<string> Kinds => _handlers.Keys;

    /// <summary>Commands running now (their ids).</summary>
    public int InFlight
    {
        get
        {
            lock (_inFlightLock)
            {
                return _inFlight.Count;
            }
        }
    }

    public Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        if (_store.TryGet(command.CommandId, out var stored))
        {
            _logger.CommandRedelivered(command.CommandId, command.Kind);
            return Task.FromResult(stored);
        }

        TaskCompletionSource<CommandResult> mine;
        lock (_inFlightLock)
        {
            if (_inFlight.TryGetValue(command.CommandId, out var running))
            {
                _logger.CommandStillRunning(command.CommandId, command.Kind);
                return running;
            }

            mine = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            _inFlight[command.CommandId] = mine.Task;
        }

        _ = RunTrackedAsync(command, mine, cancellationToken);
        return mine.Task;
    }

    private async Task RunTrackedAsync(AgentCommand command, TaskCompletionSource<CommandResult> completion, CancellationToken cancellationToken)
    {
        try
        {
            completion.TrySetResult(await RunAsync(command, cancellationToken));
        }
        catch (OperationCanceledException e)
        {
            completion.TrySetCanceled(e.CancellationToken);
        }
        catch (Exception e)
        {
            completion.TrySetException(e);
        }
        finally
        {
            lock (_inFlightLock)
            {
                _inFlight.Remove(command.CommandId);
            }
        }
    }

    private async Task<CommandResult> RunAsync(AgentCommand command, CancellationToken cancellationToken)
    {

        CommandResult result;
        if (command.ExpiresAt <= _time.GetUtcNow())
        {
            _logger.CommandExpired(command.CommandId, command.Kind, command.ExpiresAt);
            result = Failed(command, "expired");
        }
        else if (!_handlers.TryGetValue(command.Kind, out var handler))
        {
            result = Failed(command, $"unknown command kind '{command.Kind}'");
        }
        else
        {
            try
            {
                _logger.CommandStarted(command.CommandId, command.Kind);
                using (_progress.Begin(command.CommandId))
                {
                    result = await handler.ExecuteAsync(command, cancellationToken) with { CommandId = command.CommandId };
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw; // not completed: the control plane will deliver it again
            }
            catch (Exception e)
            {
                result = Failed(command, e.Message);
            }
        }

        if (result.Success)
        {
            _logger.CommandSucceeded(command.CommandId, command.Kind);
        }
        else
        {
            _logger.CommandFailed(command.CommandId, command.Kind, result.Error);
        }

        return _store.Add(result);
    }

    private CommandResult Failed(AgentCommand command, string error) =>
        new(command.CommandId, Success: false, CompletedAt: _time.GetUtcNow(), Error: error);
}
