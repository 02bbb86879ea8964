using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>The control plane answers over mutual TLS (any HTTP answer counts).</summary>
internal sealed class ControlPlaneCheck(ControlPlaneProbe probe) : IDiagnosticCheck
{
    public string Name => "control plane";

    public async Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken)
    {
        var answer = await probe.ProbeAsync(cancellationToken);
        var authority = probe.Target.Authority;
        if (answer.Error is { } error)
        {
            return Check.Fail(
                Name,
                error,
                $"check that {authority} resolves and is reachable from this host (firewall, proxy), and that agent_url in agent.json is right");
        }

        return answer.StatusCode is 401 or 403
            ? Check.Fail(Name, $"{authority} refused the agent's client certificate (HTTP {answer.StatusCode})", "the server may have been deleted or the certificate revoked: re-enrol this server")
            : Check.Pass(Name, $"{authority} answered over mutual TLS in {Check.Ms(answer.RoundTrip)}");
    }
}
