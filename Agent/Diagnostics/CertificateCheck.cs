using System.Globalization;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Http;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// The agent's client certificate: fail when expired (or not yet valid), or when it expires within an hour although
/// renewal was due; warn when less than 20 % of its lifetime is left; else pass.
/// </summary>
internal sealed class CertificateCheck(AgentConnection connection, RenewalSchedule schedule, TimeProvider time) : IDiagnosticCheck
{
    public static readonly TimeSpan Imminent = TimeSpan.FromHours(1);
    public const double WarnLeftFraction = 0.2;

    private const string RenewHint = "renewal is failing: check the control plane check and the agent log; re-enrol this server if it keeps failing";

    public string Name => "client certificate";

    public Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken)
    {
        var certificate = connection.ClientCertificate;
        return Task.FromResult(Evaluate(new DateTimeOffset(certificate.NotBefore.ToUniversalTime()), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()), time.GetUtcNow()));
    }

    internal DiagnosticCheck Evaluate(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now)
    {
        var renewAt = schedule.RenewAt(notBefore, notAfter);
        var left = notAfter - now;
        if (left <= TimeSpan.Zero)
        {
            return Check.Fail(Name, $"expired at {notAfter:u}; the control plane refuses it", RenewHint);
        }

        if (now < notBefore)
        {
            return Check.Fail(Name, $"not valid before {notBefore:u}", "this host's clock is behind: check NTP");
        }

        if (left < Imminent && now >= renewAt)
        {
            return Check.Fail(Name, $"expires at {notAfter:u} (in {Minutes(left)}); renewal was due at {renewAt:u}", RenewHint);
        }

        var lifetime = notAfter - notBefore;
        if (lifetime > TimeSpan.Zero && left < lifetime * WarnLeftFraction)
        {
            return Check.Warn(Name, $"expires at {notAfter:u} (in {Minutes(left)}), less than 20 % of its lifetime left; renewal was due at {renewAt:u}", RenewHint);
        }

        return Check.Pass(Name, $"valid until {notAfter:u}, renews automatically (from {renewAt:u})");
    }

    private static string Minutes(TimeSpan span) =>
        span >= TimeSpan.FromHours(2)
            ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.#} h")
            : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0} min");
}
