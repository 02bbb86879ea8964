using System.Globalization;
using System.Runtime.InteropServices;

namespace ManagedServers.Agent.Runtime;

/// <summary>
/// What <c>/proc</c> says about a process: its start time (clock ticks after boot, <c>/proc/PID/stat</c> field 22: with
/// the boot id, what tells a process from a later one that reuses its pid), its state letter (<c>Z</c>: a zombie, dead),
/// its executable (<c>/proc/PID/exe</c>; null when unreadable) and its command line.
/// </summary>
internal sealed record ProcessIdentity(int Pid, long StartTicks, char State, string? Executable, IReadOnlyList<string> CommandLine)
{
    /// <summary>Not dead: neither a zombie nor being reaped.</summary>
    public bool Alive => State is not ('Z' or 'X' or 'x');
}

/// <summary>
/// Starts service daemons so that they outlive the agent: <c>posix_spawn</c> with <c>POSIX_SPAWN_SETSID</c> (a session
/// and process group of their own: no terminal signal, no signal to the agent's group reaches them), stdin from
/// <c>/dev/null</c>, stdout and stderr appended straight to a log file (no pipe the agent holds), default signal
/// dispositions (.NET ignores SIGPIPE; that must not be inherited) and an empty signal mask; every other descriptor
/// is closed (the agent's own are close-on-exec anyway; this also keeps out those it inherited). Also reads <c>/proc</c> to recognise a process
/// (<see cref="Identify"/>) and reaps a child without blocking (<see cref="TryReap"/>).
/// </summary>
internal static unsafe partial class DetachedProcess
{
    private const short PosixSpawnSetSigDef = 0x04;
    private const short PosixSpawnSetSigMask = 0x08;
    private const short PosixSpawnSetSid = 0x80; // glibc 2.26+
    private const int OWriteOnly = 0x1;
    private const int OCreate = 0x40;
    private const int OAppend = 0x400;
    private const int WNoHang = 1;
    private const int SigKill = 9;
    private const int SigStop = 19;

    // glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 on 64-bit Linux: room to spare.
    private const int OpaqueSize = 1024;
    private const int SigSetSize = 128;

    /// <summary>
    /// Starts <paramref name="binary"/> with <paramref name="argv"/> (argv[0] included) in <paramref name="workingDirectory"/>,
    /// with the agent's environment plus <paramref name="environment"/>, output appended to <paramref name="logPath"/>.
    /// Returns the pid; throws <see cref="ServiceRuntimeException"/> when it cannot start.
    /// </summary>
    public static int Spawn(string binary, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, string workingDirectory, string logPath)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = (string?)entry.Value ?? string.Empty;
        }

        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }

        var allocated = new List<nint>();
        byte* actions = (byte*)NativeMemory.AllocZeroed(OpaqueSize);
        byte* attributes = (byte*)NativeMemory.AllocZeroed(OpaqueSize);
        byte* signals = (byte*)NativeMemory.AllocZeroed(SigSetSize);
        try
        {
            Check(FileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(FileActionsAddOpen(actions, 0, Utf8("/dev/null", allocated), 0, 0), "posix_spawn_file_actions_addopen stdin");
            Check(FileActionsAddOpen(actions, 1, Utf8(logPath, allocated), OWriteOnly | OCreate | OAppend, Convert.ToInt32("600", 8)), "posix_spawn_file_actions_addopen " + logPath);
            Check(FileActionsAddDup2(actions, 1, 2), "posix_spawn_file_actions_adddup2");
            try
            {
                // Descriptors the agent itself inherited without close-on-exec (a pipe of whatever started it) stay out too.
                Check(FileActionsAddCloseFrom(actions, 3), "posix_spawn_file_actions_addclosefrom_np");
            }
            catch (EntryPointNotFoundException)
            {
                // glibc before 2.34: the agent's own descriptors are close-on-exec all the same.
            }

            try
            {
                Check(FileActionsAddChdir(actions, Utf8(workingDirectory, allocated)), "posix_spawn_file_actions_addchdir_np");
            }
            catch (EntryPointNotFoundException)
            {
                // glibc before 2.29: the daemons are given absolute paths; the working directory does not matter to them.
            }

            Check(AttrInit(attributes), "posix_spawnattr_init");
            Check(SigFillSet(signals), "sigfillset");
            _ = SigDelSet(signals, SigKill);
            _ = SigDelSet(signals, SigStop);
            Check(AttrSetSigDefault(attributes, signals), "posix_spawnattr_setsigdefault");
            Check(SigEmptySet(signals), "sigemptyset");
            Check(AttrSetSigMask(attributes, signals), "posix_spawnattr_setsigmask");
            Check(AttrSetFlags(attributes, PosixSpawnSetSid | PosixSpawnSetSigDef | PosixSpawnSetSigMask), "posix_spawnattr_setflags");

            var args = Pointers(argv, allocated);
            var env = Pointers([.. variables.Select(v => $"{v.Key}={v.Value}")], allocated);
            int pid;
            var error = Spawn(&pid, Utf8(binary, allocated), actions, attributes, args, env);
            if (error != 0)
            {
                throw new ServiceRuntimeException($"cannot start {binary}: {Marshal.GetPInvokeErrorMessage(error)}");
            }

            return pid;
        }
        finally
        {
            _ = FileActionsDestroy(actions);
            _ = AttrDestroy(attributes);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
            foreach (var pointer in allocated)
            {
                Marshal.FreeCoTaskMem(pointer);
            }
        }
    }

    /// <summary>What <c>/proc</c> says about <paramref name="pid"/>, or null when there is no such process.</summary>
    public static ProcessIdentity? Identify(int pid)
    {
        if (pid <= 0)
        {
            return null;
        }

        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (ParseStat(stat) is not { } parsed)
        {
            return null;
        }

        string? executable;
        try
        {
            executable = new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            executable = null;
        }

        return new ProcessIdentity(pid, parsed.StartTicks, parsed.State, executable, ProcessSignals.CommandLine(pid) ?? []);
    }

    /// <summary>
    /// <c>/proc/PID/stat</c> → state letter (field 3) and start time (field 22). The command name (field 2) is in
    /// parentheses and may itself hold spaces and parentheses: fields are counted after the last ')'.
    /// </summary>
    internal static (char State, long StartTicks)? ParseStat(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 && fields[0].Length == 1 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? (fields[0][0], ticks)
            : null;
    }

    /// <summary>This boot's id (<c>/proc/sys/kernel/random/boot_id</c>): pids and start times count from a boot.</summary>
    public static string BootId { get; } = ReadBootId();

    /// <summary>
    /// Reaps <paramref name="pid"/> if it is a child of this process that has ended (<c>waitpid</c>, no wait): true with
    /// how it ended. False when it still runs, or is not (or no longer) this process's child to reap.
    /// </summary>
    public static bool TryReap(int pid, out string how, out int? exitCode)
    {
        int status;
        var result = WaitPid(pid, &status, WNoHang);
        if (result != pid)
        {
            how = string.Empty;
            exitCode = null;
            return false;
        }

        var signal = status & 0x7F;
        if (signal == 0)
        {
            exitCode = (status >> 8) & 0xFF;
            how = string.Create(CultureInfo.InvariantCulture, $"exited with code {exitCode}");
        }
        else
        {
            exitCode = 128 + signal;
            how = string.Create(CultureInfo.InvariantCulture, $"killed by signal {signal}");
        }

        return true;
    }

    private static string ReadBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new ServiceRuntimeException($"{what} failed: {Marshal.GetPInvokeErrorMessage(result == -1 ? Marshal.GetLastPInvokeError() : result)}");
        }
    }

    private static byte* Utf8(string text, List<nint> allocated)
    {
        var pointer = Marshal.StringToCoTaskMemUTF8(text);
        allocated.Add(pointer);
        return (byte*)pointer;
    }

    private static byte** Pointers(IReadOnlyList<string> texts, List<nint> allocated)
    {
        var array = Marshal.AllocCoTaskMem((texts.Count + 1) * sizeof(nint));
        allocated.Add(array);
        var pointers = (byte**)array;
        for (var i = 0; i < texts.Count; i++)
        {
            pointers[i] = Utf8(texts[i], allocated);
        }

        pointers[texts.Count] = null;
        return pointers;
    }

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    private static partial int Spawn(int* pid, byte* path, byte* fileActions, byte* attributes, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(byte* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(byte* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen")]
    private static partial int FileActionsAddOpen(byte* actions, int fd, byte* path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int FileActionsAddDup2(byte* actions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    private static partial int FileActionsAddChdir(byte* actions, byte* path);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    private static partial int FileActionsAddCloseFrom(byte* actions, int from);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static partial int AttrInit(byte* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int AttrDestroy(byte* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int AttrSetFlags(byte* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int AttrSetSigDefault(byte* attributes, byte* signals);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int AttrSetSigMask(byte* attributes, byte* signals);

    [LibraryImport("libc", EntryPoint = "sigfillset", SetLastError = true)]
    private static partial int SigFillSet(byte* signals);

    [LibraryImport("libc", EntryPoint = "sigemptyset", SetLastError = true)]
    private static partial int SigEmptySet(byte* signals);

    [LibraryImport("libc", EntryPoint = "sigdelset", SetLastError = true)]
    private static partial int SigDelSet(byte* signals, int signal);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, int* status, int options);
}
