using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace ManagedServers.Agent.Startup;

internal enum AgentVerb
{
    Help,
    Enroll,
    Run,
}

/// <summary>A parsed command line: the verb and its options.</summary>
internal sealed record ParsedCommand(AgentVerb Verb, string? BundlePath = null, string? StateDir = null, IPEndPoint? MetricsListen = null, IPEndPoint? PullListen = null, Uri? DockerHost = null);

/// <summary>
/// Small, dependency-free parser for <c>enroll --bundle FILE --state-dir DIR</c> and
/// <c>run --state-dir DIR [--metrics-listen ADDRESS:PORT] [--pull-listen ADDRESS:PORT]</c>.
/// </summary>
internal static class CommandLine
{
    public const string Usage = """
        usage:
          ManagedServers.Agent enroll --bundle FILE --state-dir DIR   enrol this server with the control plane
          ManagedServers.Agent run --state-dir DIR                    run the agent (heartbeats, commands, renewal)
              [--metrics-listen ADDRESS:PORT]                         also serve Prometheus metrics at http://ADDRESS:PORT/metrics
                                                                      (e.g. 127.0.0.1:9120 or [::1]:9120; off by default)
              [--pull-listen ADDRESS:PORT]                            pull mode: the control plane fetches samples from
                                                                      https://ADDRESS:PORT (mutual TLS; e.g. 0.0.0.0:9443);
                                                                      samples are then not pushed (off by default)
              [--docker-host URI]                                     Docker Engine for the docker service runtime
                                                                      (default: DOCKER_HOST, else unix:///var/run/docker.sock)
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
        string[] required;
        string[] optional = [];
        switch (verbText)
        {
            case "help" or "-h" or "--help":
                command = new ParsedCommand(AgentVerb.Help);
                return true;
            case "enroll":
                verb = AgentVerb.Enroll;
                required = ["bundle", "state-dir"];
                break;
            case "run":
                verb = AgentVerb.Run;
                required = ["state-dir"];
                optional = ["metrics-listen", "pull-listen", "docker-host"];
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

            if (Array.IndexOf(required, name) < 0 && Array.IndexOf(optional, name) < 0)
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

        foreach (var name in required)
        {
            if (!values.ContainsKey(name))
            {
                error = $"'{verbText}' needs --{name}";
                return false;
            }
        }

        IPEndPoint? metricsListen = null;
        if (values.TryGetValue("metrics-listen", out var listenText) && !TryParseListen(listenText, out metricsListen))
        {
            error = $"option '--metrics-listen': '{listenText}' is not ADDRESS:PORT with an IP address and a port 1-65535 (e.g. 127.0.0.1:9120 or [::1]:9120)";
            return false;
        }

        IPEndPoint? pullListen = null;
        if (values.TryGetValue("pull-listen", out var pullText) && !TryParseListen(pullText, out pullListen))
        {
            error = $"option '--pull-listen': '{pullText}' is not ADDRESS:PORT with an IP address and a port 1-65535 (e.g. 0.0.0.0:9443 or [::]:9443)";
            return false;
        }

        Uri? dockerHost = null;
        if (values.TryGetValue("docker-host", out var dockerText)
            && (!Uri.TryCreate(dockerText, UriKind.Absolute, out dockerHost) || dockerHost.Scheme is not ("unix" or "tcp" or "http" or "https")))
        {
            error = $"option '--docker-host': '{dockerText}' is not a unix:// or tcp:// URI (e.g. unix:///var/run/docker.sock)";
            return false;
        }

        command = new ParsedCommand(verb, values.GetValueOrDefault("bundle"), values.GetValueOrDefault("state-dir"), metricsListen, pullListen, dockerHost);
        return true;
    }

    /// <summary>An IP address with an explicit port (IPv6 in brackets).</summary>
    public static bool TryParseListen(string text, [NotNullWhen(true)] out IPEndPoint? endpoint)
    {
        endpoint = null;
        var colon = text.LastIndexOf(':');
        var bracket = text.LastIndexOf(']');
        if (colon < 0 || colon < bracket || !IPEndPoint.TryParse(text, out var parsed) || parsed.Port == 0)
        {
            return false;
        }

        endpoint = parsed;
        return true;
    }
}
