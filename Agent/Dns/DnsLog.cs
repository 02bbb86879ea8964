
namespace ManagedServers.Agent.Dns;

/// <summary>Log messages of <c>dns.apply</c> (12xx).</summary>
internal static partial class DnsLog
{
    [LoggerMessage(1200, LogLevel.Information, "DNS configuration version {Version} applied: {Zones} zone(s), {ChangedFiles} zone file(s) changed, in {ElapsedMs} ms")]
    public static partial void DnsApplied(this ILogger logger, int version, int zones, int changedFiles, long elapsedMs);

    [LoggerMessage(1201, LogLevel.Warning, "DNS configuration version {Version} failed after the switch: {Error}")]
    public static partial void DnsApplyRolledBack(this ILogger logger, int version, string error);
}
