
namespace ManagedServers.Agent.Services;

/// <summary>Log messages of the service manager and runtimes (8xx).</summary>
internal static partial class ServicesLog
{
    [LoggerMessage(800, LogLevel.Information, "Service {Kind} {Version} installed ({Runtime} runtime)")]
    public static partial void ServiceInstalled(this ILogger logger, string kind, string version, string runtime);

    [LoggerMessage(801, LogLevel.Information, "Service {Kind} updated from {OldVersion} to {NewVersion}")]
    public static partial void ServiceUpdated(this ILogger logger, string kind, string oldVersion, string newVersion);

    [LoggerMessage(802, LogLevel.Information, "Service {Kind} removed (its data directory is kept)")]
    public static partial void ServiceRemoved(this ILogger logger, string kind);

    [LoggerMessage(803, LogLevel.Warning, "Service {Kind} is not running ({Reason}); restarting in {DelaySeconds:0.#} s")]
    public static partial void ServiceFailed(this ILogger logger, string kind, string reason, double delaySeconds);

    [LoggerMessage(804, LogLevel.Information, "Service {Kind} restarted (restart {RestartCount}, {Failures} consecutive failure(s))")]
    public static partial void ServiceRestarted(this ILogger logger, string kind, int restartCount, int failures);

    [LoggerMessage(805, LogLevel.Warning, "Service {Kind} could not be restarted: {Error}; next attempt in {DelaySeconds:0.#} s")]
    public static partial void ServiceRestartFailed(this ILogger logger, string kind, string error, double delaySeconds);

    [LoggerMessage(806, LogLevel.Information, "Service {Kind} {Version} was running; adopted")]
    public static partial void ServiceAdopted(this ILogger logger, string kind, string version);

    [LoggerMessage(807, LogLevel.Information, "Service {Kind} {Version} started at agent start")]
    public static partial void ServiceStartedAtAgentStart(this ILogger logger, string kind, string version);

    [LoggerMessage(808, LogLevel.Warning, "Service {Kind} could not be reconciled at agent start: {Error}")]
    public static partial void ServiceReconcileFailed(this ILogger logger, string kind, string error);

    [LoggerMessage(809, LogLevel.Warning, "Supervision of {Kind} failed: {Error}")]
    public static partial void SupervisionFailed(this ILogger logger, string kind, string error);

    [LoggerMessage(810, LogLevel.Warning, "Service {Kind} (pid {Pid}) did not stop within {GraceSeconds:0.#} s; killed")]
    public static partial void ServiceKilledAfterGrace(this ILogger logger, string kind, int pid, double graceSeconds);

    [LoggerMessage(811, LogLevel.Warning, "Service {Kind} could not be stopped: {Error}")]
    public static partial void ServiceStopFailed(this ILogger logger, string kind, string error);

    [LoggerMessage(812, LogLevel.Information, "Service {Kind}: stopping process {Pid} left by a previous agent")]
    public static partial void StaleServiceProcess(this ILogger logger, string kind, int pid);

    [LoggerMessage(814, LogLevel.Information, "Service {Kind}: adopted process {Pid} (running since {StartedAt:u}, left by a previous agent)")]
    public static partial void ServiceProcessAdopted(this ILogger logger, string kind, int pid, DateTimeOffset startedAt);

    [LoggerMessage(815, LogLevel.Information, "Service {Kind}: process {Pid} of a previous agent not adopted: {Reason}")]
    public static partial void ServiceProcessNotAdopted(this ILogger logger, string kind, int pid, string reason);

    [LoggerMessage(813, LogLevel.Information, "Removing container {Container}: not an installed service")]
    public static partial void OrphanContainerRemoved(this ILogger logger, string container);
}
