using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;

namespace ManagedServers.Agent.Dhcp;

/// <summary>Kea would not take a configuration (its <c>config-test</c> or <c>-t</c> refused it): nothing live changed.</summary>
internal sealed class KeaRefusedException(string message) : Exception(message);

/// <summary>
/// A Kea configuration change, run by <see cref="ConfigApplier"/>: validated by the running Kea's <c>config-test</c>
/// (<c>-t</c> when stopped), switched as the service's configuration file, made live with <c>config-set</c>, and
/// checked: <c>status-get</c> answers and reports its DHCP sockets ready, <c>config-get</c> reports exactly the
/// subnets sent, and every interface the configuration names exists. The file is what a restart loads; Kea's <c>config-write</c> is not used, because it
/// would replace the document as sent by Kea's expanded form of it.
/// </summary>
internal sealed class KeaChange(KeaEngine engine, IServiceRuntime runtime, ServiceLayout layout, JsonObject document, int version) : IConfigChange
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly string _text = KeaDocuments.Write(document);

    public string PreviousName => File.Exists(AppliedVersionFile(layout)) ? $"version {File.ReadAllText(AppliedVersionFile(layout)).Trim()}" : "the configuration of the install";

    /// <summary>The sha256 of Kea's <c>config-get</c> answer after the last health check (what is live).</summary>
    public string? LiveHash { get; private set; }

    /// <summary>The subnet ids Kea reported at the last health check.</summary>
    public IReadOnlyList<long> LiveSubnets { get; private set; } = [];

    public static string AppliedVersionFile(ServiceLayout layout) => Path.Combine(layout.DataDirectory, "applied-version");

    public async Task<IReadOnlyList<StagedFile>?> StageAsync(string staging, CancellationToken cancellationToken)
    {
        if (File.Exists(layout.ConfigFile) && await File.ReadAllTextAsync(layout.ConfigFile, cancellationToken) == _text)
        {
            return null;
        }

        var candidate = Path.Combine(staging, layout.ConfigFileName);
        await File.WriteAllTextAsync(candidate, _text, cancellationToken);
        if ((await runtime.InspectAsync(layout.Kind, cancellationToken)).Running)
        {
            var answer = await KeaControl.SendAsync(layout.ControlSocket, "config-test", document, CommandTimeout, cancellationToken);
            if (!answer.Ok)
            {
                throw new KeaRefusedException($"Kea refused the configuration (config-test): {answer.Message}");
            }
        }
        else
        {
            var check = await runtime.RunToolAsync(layout.Kind, [engine.Daemon, "-t", candidate], CommandTimeout, cancellationToken);
            if (!check.Ok)
            {
                throw new KeaRefusedException($"Kea refused the configuration ({engine.Daemon} -t): {LastLines(check.Output)}");
            }
        }

        return [new StagedFile(candidate, layout.ConfigFile)];
    }

    public string DescribeSwitch(IReadOnlyList<SwitchedFile> switched) => $"{layout.ConfigFileName} replaced";

    public Task<string?> ActivateAsync(CancellationToken cancellationToken) => SetAsync(document, cancellationToken);

    public Task<string?> CheckHealthAsync(CancellationToken cancellationToken) => CheckAsync(document, cancellationToken);

    public void Commit(bool running) => File.WriteAllText(AppliedVersionFile(layout), version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task<string?> RestorePreviousAsync(IReadOnlyList<SwitchedFile> switched, CancellationToken cancellationToken)
    {
        JsonObject previous;
        try
        {
            previous = KeaDocuments.Parse(await File.ReadAllTextAsync(layout.ConfigFile, cancellationToken));
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            return $"the previous configuration cannot be read: {e.Message}";
        }

        return await SetAsync(previous, cancellationToken) ?? await CheckAsync(previous, cancellationToken);
    }

    private async Task<string?> SetAsync(JsonObject config, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await KeaControl.SendAsync(layout.ControlSocket, "config-set", config, CommandTimeout, cancellationToken);
            return answer.Ok ? null : $"config-set failed: {answer.Message}";
        }
        catch (KeaControlException e)
        {
            return $"config-set failed: {e.Message}";
        }
    }

    /// <summary>Null when Kea answers, serves exactly the subnets of <paramref name="config"/>, and its interfaces exist.</summary>
    private async Task<string?> CheckAsync(JsonObject config, CancellationToken cancellationToken)
    {
        try
        {
            var status = await KeaControl.SendAsync(layout.ControlSocket, "status-get", null, CommandTimeout, cancellationToken);
            if (!status.Ok)
            {
                return $"status-get: {status.Message}";
            }

            // Kea reports whether it could open its DHCP sockets ("ready", "retrying", "failed" with the errors).
            if (status.Arguments?["sockets"] is JsonObject sockets && sockets["status"]?.GetValue<string>() is { } socketStatus && socketStatus != "ready")
            {
                var errors = sockets["errors"] is JsonArray list ? string.Join("; ", list.Select(e => e?.GetValue<string>())) : socketStatus;
                return $"Kea's DHCP sockets are {socketStatus}: {errors}";
            }

            var live = await KeaControl.SendAsync(layout.ControlSocket, "config-get", null, CommandTimeout, cancellationToken);
            if (!live.Ok || live.Arguments is not JsonObject running)
            {
                return $"config-get: {live.Message}";
            }

            LiveHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(running.ToJsonString())));
            var sent = KeaDocuments.Subnets(config);
            var serving = KeaDocuments.Subnets(running);
            LiveSubnets = [.. serving.Select(s => s.Id)];
            if (!sent.SetEquals(serving))
            {
                return $"Kea serves subnets {Describe(serving)}, not {Describe(sent)}";
            }

            var missing = KeaDocuments.Interfaces(config).Where(i => i != "*" && !Directory.Exists(Path.Combine("/sys/class/net", i))).ToList();
            return missing.Count == 0 ? null : $"interface {string.Join(", ", missing)} does not exist on this host: Kea serves nothing there";
        }
        catch (KeaControlException e)
        {
            return e.Message;
        }
    }

    private static string Describe(HashSet<(long Id, string Prefix)> subnets) =>
        subnets.Count == 0 ? "(none)" : string.Join(", ", subnets.OrderBy(s => s.Id).Select(s => $"{s.Id} {s.Prefix}"));

    private static string LastLines(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" / ", lines.Where(l => l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("error", StringComparison.Ordinal)).DefaultIfEmpty(lines.LastOrDefault() ?? "no output").TakeLast(3));
    }
}
