namespace ManagedServers.Agent;

/// <summary>A failure with a message fit to show an operator as is (one line, no stack trace).</summary>
internal sealed class AgentException : Exception
{
    public AgentException()
    {
    }

    public AgentException(string message)
        : base(message)
    {
    }

    public AgentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
