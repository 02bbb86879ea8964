
namespace ManagedServers.Agent;

/// <summary>Log messages of the telemetry spools (55x) and their send loops (70x).</summary>
internal static partial class Log
{
    [LoggerMessage(550, LogLevel.Warning, "Monitoring spool {Directory} full ({MaxItems} items or {MaxBytes} bytes): dropping the oldest, {DroppedTotal} dropped in total (logged every 1000 drops)")]
    public static partial void SpoolFull(this ILogger logger, string directory, int maxItems, long maxBytes, long droppedTotal);

    [LoggerMessage(551, LogLevel.Warning, "Monitoring spool file {File} is unreadable and was set aside: {Error}")]
    public static partial void SpoolFileUnreadable(this ILogger logger, string file, string error);

    [LoggerMessage(552, LogLevel.Warning, "Monitoring spool drop counter {File} is unreadable; counting from 0: {Error}")]
    public static partial void SpoolCounterUnreadable(this ILogger logger, string file, string error);

    [LoggerMessage(553, LogLevel.Warning, "Monitoring spool drop counter {File} could not be saved: {Error}")]
    public static partial void SpoolCounterNotSaved(this ILogger logger, string file, string error);

    [LoggerMessage(701, LogLevel.Warning, "Sending {Count} {Items} failed ({Failures} in a row, {Spooled} spooled): {Error}; retrying in {RetryInSeconds:0.#} s")]
    public static partial void TelemetrySendFailed(this ILogger logger, int count, string items, int failures, int spooled, string error, double retryInSeconds);

    [LoggerMessage(702, LogLevel.Information, "{Items} are accepted again after {Failures} failures; {Spooled} still spooled")]
    public static partial void TelemetrySendRecovered(this ILogger logger, string items, int failures, int spooled);

    [LoggerMessage(703, LogLevel.Error, "The control plane refused {Count} {Items}; they were dropped: {Error}")]
    public static partial void TelemetryRefused(this ILogger logger, int count, string items, string error);
}
