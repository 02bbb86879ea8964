namespace ManagedServers.Cli;

/// <summary>A failure with a message meant for the user; printed as one line, exit code 1 unless stated.</summary>
internal class CliException(string message, int exitCode = ExitCodes.Error) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Wrong use of the command line that the parser cannot detect (exit code 2).</summary>
internal sealed class CliUsageException(string message) : CliException(message, ExitCodes.Usage);
