using System.Runtime.InteropServices;

namespace ManagedServers.Agent.Runtime;

/// <summary><c>kill(2)</c> and <c>/proc/PID/cmdline</c>: what <see cref="System.Diagnostics.Process"/> does not offer.</summary>
internal static partial class ProcessSignals
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone (or not ours).</summary>
    public static bool Send(int pid, int signal) => NativeKill(pid, signal) == 0;

    /// <summary>Whether <paramref name="pid"/> exists (signal 0).</summary>
    public static bool Exists(int pid) => pid > 0 && NativeKill(pid, 0) == 0;

    /// <summary>The command line of <paramref name="pid"/> (arguments split at NUL), or null when it is gone.</summary>
    public static string[]? CommandLine(int pid)
    {
        try
        {
            var raw = File.ReadAllText($"/proc/{pid}/cmdline");
            return raw.Length == 0 ? null : raw.TrimEnd('\0').Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int NativeKill(int pid, int signal);
}
