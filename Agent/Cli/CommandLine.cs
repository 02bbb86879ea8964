using System.Diagnostics.CodeAnalysis;

namespace ManagedServers.Agent.Cli;

internal enum AgentVerb
{
    Help,
    Enroll,
    Run,
}

/// <summary>A parsed command line: the verb and its options.</summary>
internal sealed record ParsedCommand(AgentVerb Verb, string? BundlePath = null, string? StateDir = null);

/// <summary>Small, dependency-free parser for <c>enroll --bundle FILE --state-dir DIR</c> and <c>run --state-dir DIR</c>.</summary>
internal static class CommandLine
{
    public const string Usage = """
        usage:
          ManagedServers.Agent enroll --bundle FILE --state-dir DIR   enrol this server with the control plane
          ManagedServers.Agent run --state-dir DIR                    run the agent (heartbeats, commands, renewal)
          ManagedServers.Agent help                                   show this text

        environment:
          MANAGEDSERVERS_AGENT_LOG   minimum log level (trace, debug, information, warning, error, critical, none)
        """;

    public static bool TryParse(IReadOnlyList<string> args, [NotNullWhen(true)] out ParsedCommand? command, out string? error)
    {
        command = null;
        error = null;
        if (args.Count == 0)
        {
            error = "missing command";
            return false;
        }

        var verbText = args[0];
        AgentVerb verb;
        string[] allowed;
        switch (verbText)
        {
            case "help" or "-h" or "--help":
                command = new ParsedCommand(AgentVerb.Help);
                return true;
            case "enroll":
                verb = AgentVerb.Enroll;
                allowed = ["bundle", "state-dir"];
                break;
            case "run":
                verb = AgentVerb.Run;
                allowed = ["state-dir"];
                break;
            default:
                error = $"unknown command '{verbText}'";
                return false;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                command = new ParsedCommand(AgentVerb.Help);
                return true;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                error = $"unexpected argument '{arg}'";
                return false;
            }

            string name;
            string? value;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                name = arg[2..eq];
                value = arg[(eq + 1)..];
            }
            else
            {
                name = arg[2..];
                value = i + 1 < args.Count ? args[++i] : null;
            }

            if (Array.IndexOf(allowed, name) < 0)
            {
                error = $"unknown option '--{name}' for '{verbText}'";
                return false;
            }

            if (string.IsNullOrWhiteSpace(value))
            {
                error = $"option '--{name}' needs a value";
                return false;
            }

            if (!values.TryAdd(name, value))
            {
                error = $"option '--{name}' given twice";
                return false;
            }
        }

        foreach (var name in allowed)
        {
            if (!values.ContainsKey(name))
            {
                error = $"'{verbText}' needs --{name}";
                return false;
            }
        }

        command = new ParsedCommand(verb, values.GetValueOrDefault("bundle"), values.GetValueOrDefault("state-dir"));
        return true;
    }
}
