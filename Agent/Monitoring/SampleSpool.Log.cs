
namespace ManagedServers.Agent;

/// <summary>Log messages of the sample spool (55x).</summary>
internal static partial class Log
{
    [LoggerMessage(550, LogLevel.Warning, "Monitoring spool full ({MaxSamples} samples or {MaxBytes} bytes): dropping the oldest samples, {DroppedTotal} dropped in total (logged every 1000 drops)")]
    public static partial void SpoolFull(this ILogger logger, int maxSamples, long maxBytes, long droppedTotal);

    [LoggerMessage(551, LogLevel.Warning, "Monitoring spool file {File} is unreadable and was set aside: {Error}")]
    public static partial void SpoolFileUnreadable(this ILogger logger, string file, string error);

    [LoggerMessage(552, LogLevel.Warning, "Monitoring spool drop counter {File} is unreadable; counting from 0: {Error}")]
    public static partial void SpoolCounterUnreadable(this ILogger logger, string file, string error);

    [LoggerMessage(553, LogLevel.Warning, "Monitoring spool drop counter {File} could not be saved: {Error}")]
    public static partial void SpoolCounterNotSaved(this ILogger logger, string file, string error);
}
