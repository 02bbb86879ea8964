
namespace ManagedServers.Agent;

/// <summary>Log messages of the pull endpoint (56x).</summary>
internal static partial class Log
{
    [LoggerMessage(560, LogLevel.Information, "Pull mode: the control plane pulls samples from https://{Endpoint}/pull/v1/samples; this agent does not push samples")]
    public static partial void PullEndpointListening(this ILogger logger, string endpoint);

    [LoggerMessage(561, LogLevel.Error, "Pull endpoint cannot listen on {Endpoint}: {Error}; samples stay in the spool until it can")]
    public static partial void PullEndpointFailed(this ILogger logger, string endpoint, string error);

    [LoggerMessage(562, LogLevel.Debug, "Pull request from {Remote} failed: {Error}")]
    public static partial void PullRequestFailed(this ILogger logger, string? remote, string error);

    [LoggerMessage(563, LogLevel.Warning, "Pull connection from {Remote} refused: {Reason}")]
    public static partial void PullClientRefused(this ILogger logger, string? remote, string reason);

    [LoggerMessage(564, LogLevel.Information, "Pull endpoint presents certificate {Thumbprint} (valid until {NotAfter:o})")]
    public static partial void PullCertificateLoaded(this ILogger logger, string thumbprint, DateTime notAfter);

    [LoggerMessage(565, LogLevel.Debug, "Pull from {Remote}: acknowledged through {Ack} ({Removed} removed), answered {Count} samples, {Spooled} spooled")]
    public static partial void PullAnswered(this ILogger logger, string? remote, long ack, int removed, int count, int spooled);
}
