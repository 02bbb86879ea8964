using System.Text.Json;
using System.Text.Json.Nodes;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Services;

namespace ManagedServers.Agent.Dhcp;

/// <summary>
/// Kea configuration documents on the agent: parsing and writing, the subnets and interfaces a document names, and
/// confinement: the members that name files are the agent's to set (control socket, memfile lease file, IPv6 data
/// directory; the interfaces when the service was added with them), and a pushed document may load hooks only from Kea's own hooks directory and write logs only to the
/// console, syslog or the service's log directory. A document from the control plane cannot make Kea (root) load a
/// library or write a file anywhere else.
/// </summary>
internal static class KeaDocuments
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, IndentSize = 4 };

    public static JsonObject Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw new ArgumentException("a Kea configuration is a JSON object");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"not valid JSON: {e.Message}", e);
        }
    }

    public static string Write(JsonObject document) => document.ToJsonString(Indented) + "\n";

    /// <summary>The <c>Dhcp4</c>/<c>Dhcp6</c> object of a document (or of a <c>config-get</c> answer).</summary>
    public static JsonObject? Root(JsonObject document) => (document["Dhcp4"] ?? document["Dhcp6"]) as JsonObject;

    /// <summary>The (id, prefix) of every subnet, shared networks included.</summary>
    public static HashSet<(long Id, string Prefix)> Subnets(JsonObject document)
    {
        var result = new HashSet<(long, string)>();
        if (Root(document) is not { } root)
        {
            return result;
        }

        var key = document.ContainsKey("Dhcp4") ? "subnet4" : "subnet6";
        var lists = new[] { root[key] }.Concat((root["shared-networks"] as JsonArray ?? []).Select(n => n?[key]));
        foreach (var subnet in lists.OfType<JsonArray>().SelectMany(a => a).OfType<JsonObject>())
        {
            if (subnet["id"] is JsonValue id && id.TryGetValue<long>(out var number) && subnet["subnet"] is JsonValue prefix && prefix.TryGetValue<string>(out var text))
            {
                result.Add((number, text));
            }
        }

        return result;
    }

    /// <summary>The interface names of <c>interfaces-config</c> (an <c>/address</c> suffix dropped).</summary>
    public static IReadOnlyList<string> Interfaces(JsonObject document) =>
        Root(document)?["interfaces-config"]?["interfaces"] is JsonArray list
            ? [.. list.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s.Split('/')[0] : string.Empty).Where(s => s.Length > 0)]
            : [];

    /// <summary>
    /// Sets the members that name the agent's files and refuses what would reach outside the service: the document's
    /// family must be the service's. Throws <see cref="KeaRefusedException"/> naming the member.
    /// </summary>
    public static void Confine(JsonObject document, KeaEngine engine, ServiceLayout layout, InstalledService? service = null)
    {
        var family = engine.Kind == Contracts.Agent.ServiceKinds.Dhcp4 ? "Dhcp4" : "Dhcp6";
        var other = document.Select(m => m.Key).FirstOrDefault(k => k != family);
        if (other is not null || document[family] is not JsonObject root)
        {
            throw new KeaRefusedException(other is null
                ? $"the document has no {family} object for the {engine.Kind} service"
                : $"{other}: the {engine.Kind} service takes a {family} document only");
        }

        root["control-socket"] = new JsonObject { ["socket-type"] = "unix", ["socket-name"] = layout.ControlSocket };
        if (service?.Interfaces is { } interfaces)
        {
            // The service was added with its interfaces: they are what Kea serves, whatever the document says.
            var config = root["interfaces-config"] as JsonObject ?? new JsonObject();
            config["interfaces"] = new JsonArray([.. interfaces.Select(i => (JsonNode)JsonValue.Create(i))]);
            if (family == "Dhcp4" && !config.ContainsKey("dhcp-socket-type") && interfaces.Any(i => i.Split('/')[0] == "lo"))
            {
                config["dhcp-socket-type"] = "udp"; // Kea's default raw sockets cannot open on the loopback interface
            }

            root["interfaces-config"] = config;
        }

        if (family == "Dhcp6")
        {
            root["data-directory"] = layout.DataDirectory;
        }

        var lease = root["lease-database"] as JsonObject ?? new JsonObject { ["type"] = "memfile", ["persist"] = true };
        root["lease-database"] = lease;
        if (lease["type"] is JsonValue type && type.TryGetValue<string>(out var kind) && kind == "memfile")
        {
            lease["name"] = Path.Combine(layout.DataDirectory, family == "Dhcp4" ? "kea-leases4.csv" : "kea-leases6.csv");
        }

        if (root["hooks-libraries"] is JsonArray hooks)
        {
            for (var i = 0; i < hooks.Count; i++)
            {
                if (hooks[i]?["library"] is not JsonValue library || !library.TryGetValue<string>(out var path))
                {
                    throw new KeaRefusedException($"{family}.hooks-libraries[{i}]: has no library");
                }

                var full = Path.IsPathRooted(path) ? Path.GetFullPath(path) : Path.Combine(KeaEngine.HooksDirectory, path);
                if (!string.Equals(Path.GetDirectoryName(full), KeaEngine.HooksDirectory, StringComparison.Ordinal))
                {
                    throw new KeaRefusedException($"{family}.hooks-libraries[{i}]: {path} is not one of Kea's hooks in {KeaEngine.HooksDirectory}; only those can be loaded");
                }

                hooks[i]!["library"] = full;
            }
        }

        if (root["loggers"] is JsonArray loggers)
        {
            var logs = Path.GetFullPath(layout.LogDirectory) + Path.DirectorySeparatorChar;
            foreach (var (output, where) in loggers.OfType<JsonObject>().SelectMany((l, i) => (l["output_options"] as JsonArray ?? []).OfType<JsonObject>().Select((o, j) => (o, $"{family}.loggers[{i}].output_options[{j}]"))))
            {
                var target = output["output"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "stdout";
                if (target is "stdout" or "stderr" || target.StartsWith("syslog", StringComparison.Ordinal))
                {
                    continue;
                }

                if (!Path.GetFullPath(Path.Combine(layout.LogDirectory, target)).StartsWith(logs, StringComparison.Ordinal))
                {
                    throw new KeaRefusedException($"{where}.output: {target} is outside the service's log directory {layout.LogDirectory}");
                }
            }
        }
    }
}
