using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>The Docker engine, when services run as containers; otherwise pass "not used".</summary>
internal sealed class RuntimeCheck(IServiceInventory inventory) : IDiagnosticCheck
{
    public string Name => "docker engine";

    public async Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken)
    {
        var runtime = inventory.RuntimeName;
        if (runtime != RuntimeNames.Docker)
        {
            return Check.Pass(Name, runtime is null ? "not used (no services installed)" : $"not used ({runtime} runtime)");
        }

        var health = await inventory.CheckRuntimeAsync(cancellationToken);
        return health.Healthy
            ? Check.Pass(Name, health.Description)
            : Check.Fail(Name, health.Description, "check the engine: systemctl status docker; the agent's user needs access to /var/run/docker.sock");
    }
}
