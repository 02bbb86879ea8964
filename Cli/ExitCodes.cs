namespace ManagedServers.Cli;

/// <summary>Process exit codes of msctl.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The API answered with an error (problem+json, 401, 404, 409...) or the operation failed.</summary>
    public const int Error = 1;

    /// <summary>Bad command line usage (Spectre parse errors, missing --yes, invalid URL).</summary>
    public const int Usage = 2;

    /// <summary>The control plane could not be reached (connection refused, DNS, TLS, timeout).</summary>
    public const int Unreachable = 2;

    /// <summary>Interrupted with Ctrl+C.</summary>
    public const int Cancelled = 130;
}
