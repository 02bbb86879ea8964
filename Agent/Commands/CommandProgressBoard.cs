using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Commands;

/// <summary>
/// The commands running now and the steps each has taken so far, for heartbeats (<see cref="CommandProgress"/>). The
/// executor opens an entry around a handler; code deep inside (the service manager's step log) reports through
/// <see cref="Report"/>, which finds the command of the calling flow without being handed it. A report asks for a
/// heartbeat at once (<see cref="Changed"/>), so the control plane's job log follows within a second.
/// </summary>
internal sealed class CommandProgressBoard
{
    private static readonly AsyncLocal<Entry?> CurrentEntry = new();
    private readonly Dictionary<string, Entry> _running = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Called after a step is reported (the agent sends a heartbeat).</summary>
    public Action? Changed { get; set; }

    /// <summary>Opens the entry of a command for the calling flow; dispose when the command ends.</summary>
    public IDisposable Begin(string commandId)
    {
        var entry = new Entry(this, commandId);
        lock (_lock)
        {
            _running[commandId] = entry;
        }

        CurrentEntry.Value = entry;
        return entry;
    }

    /// <summary>Adds a step to the command of the calling flow, if there is one.</summary>
    public static void Report(string step)
    {
        if (CurrentEntry.Value is { } entry)
        {
            entry.Add(step);
        }
    }

    /// <summary>The running commands with their steps so far; null when none runs.</summary>
    public IReadOnlyList<CommandProgress>? Snapshot()
    {
        lock (_lock)
        {
            return _running.Count == 0 ? null : [.. _running.Values.Select(e => e.ToProgress())];
        }
    }

    private sealed class Entry(CommandProgressBoard board, string commandId) : IDisposable
    {
        private readonly List<string> _steps = [];

        public void Add(string step)
        {
            lock (board._lock)
            {
                _steps.Add(step);
            }

            board.Changed?.Invoke();
        }

        /// <summary>10 % once running, then 15 points per step, at most 90 % until the result.</summary>
        public CommandProgress ToProgress() => new(commandId, Math.Min(90, 10 + (15 * _steps.Count)), [.. _steps]);

        public void Dispose()
        {
            lock (board._lock)
            {
                board._running.Remove(commandId);
            }
        }
    }
}
