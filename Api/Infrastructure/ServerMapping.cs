namespace ManagedServers.Api.Infrastructure;

/// <summary>Grain snapshots to REST views, and the lower-case names enums have on the wire.</summary>
public static class ServerMapping
{
    public static ServerView ToView(this ServerSnapshot s) => new(
        s.Id,
        s.Definition.Name,
        Wire(s.Definition.Kind),
        s.Definition.Address,
        s.Definition.Os,
        Wire(s.Definition.Runtime),
        Wire(s.Definition.Communication),
        s.Definition.MonitoringApiIp,
        s.Definition.ServerUser,
        Wire(s.State),
        s.LastHeartbeat,
        s.Requests2m,
        new ComponentVersions(s.Versions.Monitor, s.Versions.Backup, s.Versions.Dns, s.Versions.Dhcp4, s.Versions.Dhcp6),
        s.CreatedAt,
        s.StateSince,
        s.Hostname,
        s.UptimeSeconds,
        s.CertificateNotAfter,
        s.Definition.PullPort,
        s.Services.IsDefault ? [] : s.Services.Select(JobMapping.ToView).ToArray(),
        s.ActiveJobs);

    public static HeartbeatView ToHeartbeatView(this ServerSnapshot s) =>
        new(s.Id, s.Definition.Name, Wire(s.State), s.LastHeartbeat, s.Requests2m, s.AgentVersion, s.UptimeSeconds);

    /// <summary>An enum value as the API writes it: snake_case (<c>LastHeartbeat</c> → <c>last_heartbeat</c>).</summary>
    public static string Wire<T>(T value)
        where T : struct, Enum => ManagedServers.Contracts.ContractsJson.WireName(value);

    public static bool TryParse<T>(string? text, out T value)
        where T : struct, Enum
    {
        value = default;
        // Names only: Enum.TryParse would also take "5".
        return text is { Length: > 0 } && char.IsLetter(text[0]) && Enum.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out value) && Enum.IsDefined(value);
    }

    public static string Choices<T>()
        where T : struct, Enum => string.Join(", ", Enum.GetValues<T>().Select(Wire));
}
