using System.Collections;
using ManagedServers.Agent.Commands;

namespace ManagedServers.Agent.Services;

/// <summary>
/// The steps a service command takes: kept for its result, and reported as they happen (heartbeat progress). It wraps
/// its list rather than deriving from it, so a step cannot be added behind the progress board's back.
/// </summary>
internal sealed class StepLog : IReadOnlyList<string>
{
    private readonly List<string> _steps = [];

    public int Count => _steps.Count;

    public string this[int index] => _steps[index];

    public void Add(string step)
    {
        _steps.Add(step);
        CommandProgressBoard.Report(step);
    }

    public IEnumerator<string> GetEnumerator() => _steps.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
