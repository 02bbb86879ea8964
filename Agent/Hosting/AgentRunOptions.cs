using System.Net;

namespace ManagedServers.Agent.Hosting;

/// <summary>Options of <c>run</c>; the defaults are the production values, tests shorten some.</summary>
internal sealed class AgentRunOptions
{
    public required string StateDir { get; init; }

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>Part of the certificate lifetime after which it is renewed.</summary>
    public double RenewalFraction { get; init; } = RenewalSchedule.DefaultFraction;

    /// <summary>How long the control plane may hold a command long-poll.</summary>
    public int CommandWaitSeconds { get; init; } = 20;

    /// <summary>Bound on the final heartbeat with Stopping = true.</summary>
    public TimeSpan StoppingHeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public int CompletedCommandCapacity { get; init; } = Commands.CompletedCommandStore.DefaultCapacity;

    /// <summary>Where to serve Prometheus metrics (<c>--metrics-listen</c>); null (the default) serves none.</summary>
    public IPEndPoint? MetricsListen { get; init; }

    /// <summary>
    /// Where the control plane pulls samples (<c>--pull-listen</c>, HTTPS); null (the default) serves none. When set,
    /// the agent pushes no samples: they leave the spool only through pulls.
    /// </summary>
    public IPEndPoint? PullListen { get; init; }

    /// <summary>Docker Engine address for the docker runtime (<c>--docker-host</c>); null: <c>DOCKER_HOST</c>, else unix:///var/run/docker.sock.</summary>
    public Uri? DockerHost { get; init; }

    /// <summary>Where the exec runtime looks for knotd and Kea first; null: PATH, then /usr/sbin.</summary>
    public string? ServiceBinDirectory { get; init; }
}
