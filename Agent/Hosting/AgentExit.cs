using ManagedServers.Agent.Startup;

namespace ManagedServers.Agent.Hosting;

/// <summary>The exit code the host should end with; loops set it before stopping the host.</summary>
internal sealed class AgentExit
{
    private int _code = AgentProgram.ExitOk;

    public int Code => Volatile.Read(ref _code);

    public bool Refused => Code == AgentProgram.ExitRefused;

    public void SetRefused() => Volatile.Write(ref _code, AgentProgram.ExitRefused);
}
