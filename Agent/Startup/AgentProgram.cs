using ManagedServers.Agent.Enrollment;
using ManagedServers.Agent.Hosting;

namespace ManagedServers.Agent.Startup;

/// <summary>The entry point; its logic (<see cref="MainAsync"/>) takes its writers so tests can call it.</summary>
internal static class AgentProgram
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;
    public const int ExitRefused = 3;

    public const string LogLevelVariable = "MANAGEDSERVERS_AGENT_LOG";

    public static Task<int> Main(string[] args) => MainAsync(args, Console.Out, Console.Error);

    public static async Task<int> MainAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (!CommandLine.TryParse(args, out var command, out var error))
        {
            await stderr.WriteLineAsync(error);
            await stderr.WriteLineAsync(CommandLine.Usage);
            return ExitUsage;
        }

        switch (command.Verb)
        {
            case AgentVerb.Enroll:
                return await EnrollCommand.RunAsync(command.BundlePath!, command.StateDir!, stdout, stderr, TimeProvider.System, CancellationToken.None);
            case AgentVerb.Run:
                var level = ParseLogLevel(Environment.GetEnvironmentVariable(LogLevelVariable), out var levelError);
                if (levelError is not null)
                {
                    await stderr.WriteLineAsync(levelError);
                }

                return await AgentHost.RunAsync(new AgentRunOptions { StateDir = command.StateDir!, MinimumLogLevel = level, MetricsListen = command.MetricsListen, PullListen = command.PullListen, DockerHost = command.DockerHost }, stderr);
            default:
                await stdout.WriteLineAsync(CommandLine.Usage);
                return ExitOk;
        }
    }

    /// <summary>Reads a log level name; unknown names fall back to Information with a message.</summary>
    public static LogLevel ParseLogLevel(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return LogLevel.Information;
        }

        switch (text.Trim().ToLowerInvariant())
        {
            case "trace": return LogLevel.Trace;
            case "debug": return LogLevel.Debug;
            case "info" or "information": return LogLevel.Information;
            case "warn" or "warning": return LogLevel.Warning;
            case "error": return LogLevel.Error;
            case "critical" or "fatal": return LogLevel.Critical;
            case "none" or "off": return LogLevel.None;
            default:
                error = $"{LogLevelVariable}: unknown log level '{text}', using information";
                return LogLevel.Information;
        }
    }
}
