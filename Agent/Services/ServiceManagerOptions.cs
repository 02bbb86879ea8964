using System.Globalization;

namespace ManagedServers.Agent.Services;

/// <summary>Settings of the <see cref="ServiceManager"/>; defaults are the production values, tests shorten some.</summary>
internal sealed class ServiceManagerOptions
{
    /// <summary>Test-only: milliseconds to wait between the steps of <c>service.install</c> (so a test can interrupt one).</summary>
    public const string StepDelayVariable = "MANAGEDSERVERS_AGENT_STEP_DELAY_MS";

    public required string StateDirectory { get; init; }

    /// <summary>Names containers (<c>ms-SERVERID-KIND</c>) and labels them.</summary>
    public required string ServerId { get; init; }

    /// <summary>Docker Engine address (<c>--docker-host</c>); null: <c>DOCKER_HOST</c>, else the local unix socket.</summary>
    public Uri? DockerHost { get; init; }

    /// <summary>Where the exec runtime looks for knotd and Kea first (else PATH, /usr/sbin).</summary>
    public string? ExecBinDirectory { get; init; }

    /// <summary>How long a started service has to answer (DNS query, Kea status-get).</summary>
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>SIGTERM → SIGKILL grace on stop.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First crash-restart delay; doubles per consecutive crash up to <see cref="MaxRestartDelay"/>.</summary>
    public TimeSpan FirstRestartDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRestartDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A service that has run this long since its last start has its backoff reset.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Test-only delay between install steps (from <see cref="StepDelayVariable"/>).</summary>
    public TimeSpan StepDelay { get; init; } = ReadStepDelay();

    public string ServicesRoot => Path.Combine(StateDirectory, "services");

    public string ServicesFile => Path.Combine(StateDirectory, "services.json");

    private static TimeSpan ReadStepDelay() =>
        int.TryParse(Environment.GetEnvironmentVariable(StepDelayVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms)
            : TimeSpan.Zero;
}
