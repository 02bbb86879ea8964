using System.Text;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// What an agent reports is input, not truth: every field of a heartbeat is bounded before the server grain keeps it
/// (whatever the transport: HTTPS, AMQP or pull all arrive here). Text is cut to a length a person can read and control
/// characters become '?'; lists are cut to a count no real agent reaches. Cutting, not refusing: a heartbeat is the
/// agent's sign of life, and one overlong field must not make a healthy server look down.
/// </summary>
public static class AgentInput
{
    public const int MaxHostname = 253;       // a DNS name at its longest
    public const int MaxShortText = 128;      // versions, OS names, states, runtimes
    public const int MaxMessage = 1_000;      // one error or step message
    public const int MaxVersions = 32;
    public const int MaxServices = 16;
    public const int MaxProgress = 32;
    public const int MaxStepsPerProgress = 100;

    public static Heartbeat Bound(Heartbeat beat) => beat with
    {
        AgentVersion = Text(beat.AgentVersion, MaxShortText) ?? string.Empty,
        Hostname = Text(beat.Hostname, MaxHostname),
        Os = Text(beat.Os, MaxShortText),
        MetricsAddress = Text(beat.MetricsAddress, 300),
        Versions = beat.Versions is null ? null : beat.Versions.Take(MaxVersions).ToDictionary(v => Text(v.Key, 64)!, v => Text(v.Value, MaxShortText), StringComparer.Ordinal),
        Services = beat.Services?.Take(MaxServices).Select(Bound).ToList(),
        Progress = beat.Progress?.Take(MaxProgress).Select(p => p with
        {
            CommandId = Text(p.CommandId, MaxShortText) ?? string.Empty,
            Steps = p.Steps is null ? [] : [.. p.Steps.Take(MaxStepsPerProgress).Select(s => Text(s, MaxMessage) ?? string.Empty)],
        }).ToList(),
    };

    public static ServiceStatus Bound(ServiceStatus service) => service with
    {
        Kind = Text(service.Kind, MaxShortText) ?? string.Empty,
        State = Text(service.State, MaxShortText) ?? string.Empty,
        Version = Text(service.Version, MaxShortText),
        Runtime = Text(service.Runtime, MaxShortText) ?? string.Empty,
        Error = Text(service.Error, MaxMessage),
        Listen = Text(service.Listen, MaxMessage),
    };

    /// <summary>At most <paramref name="max"/> characters ("…" marks a cut), control characters as '?'.</summary>
    public static string? Text(string? value, int max)
    {
        if (value is null)
        {
            return null;
        }

        var cut = value.Length > max;
        var span = cut ? value.AsSpan(0, max - 1) : value.AsSpan();
        if (!cut && !span.ContainsAnyInRange('\0', '\u001f') && !span.Contains('\u007f'))
        {
            return value;
        }

        var text = new StringBuilder(span.Length + 1);
        foreach (var c in span)
        {
            text.Append(char.IsControl(c) ? '?' : c);
        }

        return cut ? text.Append('…').ToString() : text.ToString();
    }
}
