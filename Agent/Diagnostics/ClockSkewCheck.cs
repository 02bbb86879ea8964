using System.Globalization;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// The agent's clock against the control plane's <c>Date</c> header. <c>Date</c> has one-second resolution (it is
/// truncated), so the server's time is taken as Date + 0.5 s, and the skew counted only beyond that half second plus
/// half the round trip: warn above 2 s, fail above 30 s.
/// </summary>
internal sealed class ClockSkewCheck(ControlPlaneProbe probe) : IDiagnosticCheck
{
    public static readonly TimeSpan WarnAbove = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan FailAbove = TimeSpan.FromSeconds(30);

    private const string Hint = "synchronise this host's clock: check that NTP (chrony, systemd-timesyncd) runs and reaches its servers (chronyc tracking, timedatectl)";

    public string Name => "clock skew";

    public async Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken)
    {
        var answer = await probe.ProbeAsync(cancellationToken);
        if (answer.Error is not null)
        {
            return Check.Warn(Name, "could not measure: control plane unreachable", "see the control plane check");
        }

        if (answer.ServerDate is not { } date)
        {
            return Check.Warn(Name, "could not measure: the control plane's answer has no Date header", null);
        }

        return Evaluate(answer.LocalMidpoint, date, answer.RoundTrip);
    }

    internal DiagnosticCheck Evaluate(DateTimeOffset localMidpoint, DateTimeOffset serverDate, TimeSpan roundTrip)
    {
        var skew = localMidpoint - (serverDate + TimeSpan.FromMilliseconds(500));
        var uncertainty = TimeSpan.FromMilliseconds(500) + (roundTrip / 2);
        var beyond = skew.Duration() - uncertainty;
        var direction = skew > TimeSpan.Zero ? "ahead of" : "behind";
        var message = string.Create(CultureInfo.InvariantCulture, $"agent clock is {skew.Duration().TotalSeconds:0.0} s {direction} the control plane (±{uncertainty.TotalSeconds:0.0} s)");
        if (beyond > FailAbove)
        {
            return Check.Fail(Name, message, Hint + "; certificates and tokens are refused with this much skew");
        }

        return beyond > WarnAbove ? Check.Warn(Name, message, Hint) : Check.Pass(Name, message);
    }
}
