using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using ManagedServers.Agent.Diagnostics;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace ManagedServers.Agent.Tests.Diagnostics;

public sealed class DebugBundleTests(ITestOutputHelper output)
{
    private const string KnotSecret = "Wm9vbWVkLXRzaWctc2VjcmV0LXZhbHVlLTEyMw==";
    private const string KeaPassword = "kea-db-pa55word";
    private const string KeaContextSecret = "ctx-s3cret";
    private const string BrokerPassword = "broker-pw-0123456789";

    [Fact]
    public async Task Secrets_are_redacted_keys_never_included_and_the_bundle_is_a_valid_tar_gz()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var state = DiagnosticsTestSupport.EnrolledState(temp.Combine("state"), ca, "https://cp.example:5001");
        File.WriteAllText(state.NewKeyFile, File.ReadAllText(state.KeyFile));
        state.WriteAmqp(new AmqpCredentials("broker.example", 5671, "/", "agent-srv-0001", BrokerPassword, true, "p0001.srv-0001", "agent.srv-0001"));
        var keyPem = File.ReadAllText(state.KeyFile);
        var inventory = Inventory(temp);

        var (bundle, entries) = await BuildAsync(state, inventory, new DebugBundleArgs());

        Assert.False(bundle.Truncated);
        Assert.Equal(
            ["versions.json", "agent/agent.json", "agent/amqp.json", "docker.txt", "services/dns/config/knot.conf", "services/dhcp4/config/kea-dhcp4.conf", "services/dns/service.log", "services/dhcp4/service.log", "MANIFEST.txt"],
            bundle.Files);
        Assert.Equal(bundle.Files, entries.Keys);
        var all = string.Concat(entries.Values);
        foreach (var secret in new[] { KnotSecret, KeaPassword, KeaContextSecret, BrokerPassword, keyPem.Split('\n')[1], "PRIVATE KEY" })
        {
            Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
        }

        // Structure that is not secret stays.
        var knot = entries["services/dns/config/knot.conf"];
        Assert.Contains("algorithm: hmac-sha256", knot, StringComparison.Ordinal);
        Assert.Contains("secret: <redacted>", knot, StringComparison.Ordinal);
        Assert.Contains("key: tsig1", knot, StringComparison.Ordinal);
        var kea = entries["services/dhcp4/config/kea-dhcp4.conf"];
        Assert.Contains("\"postgresql\"", kea, StringComparison.Ordinal);
        Assert.Contains("\"password\": \"<redacted>\"", kea, StringComparison.Ordinal);
        Assert.Contains("\"subnet\": \"192.0.2.0/24\"", kea, StringComparison.Ordinal);
        Assert.Contains("\"user\": \"kea\"", kea, StringComparison.Ordinal);
        Assert.Contains("\"host\": \"broker.example\"", entries["agent/amqp.json"], StringComparison.Ordinal);
        Assert.Contains("\"password\": \"<redacted>\"", entries["agent/amqp.json"], StringComparison.Ordinal);
        Assert.Contains("\"agent_url\": \"https://cp.example:5001\"", entries["agent/agent.json"], StringComparison.Ordinal);
        Assert.Contains("dns log line", entries["services/dns/service.log"], StringComparison.Ordinal);
        Assert.Contains("runtime: docker: healthy", entries["docker.txt"], StringComparison.Ordinal);
        Assert.Contains("\"kind\": \"dhcp4\"", entries["versions.json"], StringComparison.Ordinal);

        var manifest = entries["MANIFEST.txt"];
        Assert.Contains("diagnostics.json: not included: diagnostics never ran", manifest, StringComparison.Ordinal);
        Assert.Contains("tsig.key: not included: key file", manifest, StringComparison.Ordinal);
        Assert.Contains("stray.pem: not included: holds a private key", manifest, StringComparison.Ordinal);
        Assert.Contains("truncated: no", manifest, StringComparison.Ordinal);
        Assert.Contains($"services/dns/service.log  {Encoding.UTF8.GetByteCount(entries["services/dns/service.log"])} bytes", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Versions_give_the_kernel_release_and_the_os_name_apart()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var state = DiagnosticsTestSupport.EnrolledState(temp.Combine("state"), ca, "https://cp.example:5001");

        var (_, entries) = await BuildAsync(state, Inventory(temp), new DebugBundleArgs());

        using var versions = System.Text.Json.JsonDocument.Parse(entries["versions.json"]);
        var kernel = versions.RootElement.GetProperty("kernel").GetString();
        var os = versions.RootElement.GetProperty("os").GetString();
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), kernel); // what uname -r prints
        var pretty = File.ReadLines("/etc/os-release").Single(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))["PRETTY_NAME=".Length..].Trim('"');
        Assert.Equal(pretty, os);
        Assert.NotEqual(os, kernel);
    }

    [Fact]
    public async Task Last_diagnostics_report_and_agent_logs_are_included()
    {
        using var temp = new TempDir();
        var state = new StateDirectory(temp.Path);
        state.EnsureCreated();
        var runner = new DiagnosticsRunner([], [new ServiceChecks(new FakeServiceInventory(), "srv-test")], state, TimeProvider.System, NullLogger<DiagnosticsRunner>.Instance);
        await runner.RunAsync(CancellationToken.None);
        Directory.CreateDirectory(temp.Combine("logs"));
        File.WriteAllText(temp.Combine("logs", "agent.log"), "newest line\n");
        File.WriteAllText(temp.Combine("logs", "agent.log.1"), "older line\n");

        var (bundle, entries) = await BuildAsync(state, new FakeServiceInventory(), new DebugBundleArgs());

        Assert.Contains("no services installed", entries["diagnostics.json"], StringComparison.Ordinal);
        Assert.Equal("newest line\n", entries["agent/agent.log"]);
        Assert.Equal("older line\n", entries["agent/agent.log.1"]);
        Assert.Contains("runtime: none", entries["docker.txt"], StringComparison.Ordinal);
        Assert.False(bundle.Truncated);
    }

    [Fact]
    public async Task A_50_MiB_log_is_cut_to_log_bytes_and_the_bundle_to_max_bytes()
    {
        using var temp = new TempDir();
        var state = new StateDirectory(temp.Path);
        state.EnsureCreated();
        var log = temp.Combine("logs", "agent.log");
        var lastLine = WriteRandomLog(log, 50 * 1024 * 1024);
        var inventory = Inventory(temp);

        // log_bytes bound: the newest 1 MiB of the agent log.
        var (byLog, entries) = await BuildAsync(state, inventory, new DebugBundleArgs());
        Assert.True(byLog.Truncated);
        Assert.True(byLog.Size <= DebugBundleArgs.DefaultMaxBytes);
        Assert.InRange(Encoding.UTF8.GetByteCount(entries["agent/agent.log"]), DebugBundleArgs.DefaultLogBytes - 4096, DebugBundleArgs.DefaultLogBytes);
        Assert.EndsWith(lastLine, entries["agent/agent.log"], StringComparison.Ordinal);
        Assert.Contains("log_bytes limit", entries["MANIFEST.txt"], StringComparison.Ordinal);

        // max_bytes bound: random text compresses about 2:1, 8 MiB of it cannot fit in 1 MiB.
        var args = new DebugBundleArgs(MaxBytes: 1024 * 1024, LogBytes: 8 * 1024 * 1024);
        inventory.Logs[ServiceKinds.Dns] = RandomText(2 * 1024 * 1024)[..(2 * 1024 * 1024)];
        var (bySize, sized) = await BuildAsync(state, inventory, args);
        Assert.True(bySize.Truncated);
        Assert.InRange(bySize.Size, 512 * 1024, args.MaxBytes);
        Assert.EndsWith(lastLine, sized["agent/agent.log"], StringComparison.Ordinal);
        Assert.Contains("(max_bytes limit)", sized["MANIFEST.txt"], StringComparison.Ordinal);
        Assert.Contains("truncated: yes", sized["MANIFEST.txt"], StringComparison.Ordinal);
        var dnsLog = sized["MANIFEST.txt"].Split('\n').Where(l => l.Contains("services/dns/service.log", StringComparison.Ordinal)).ToList();
        Assert.True(
            dnsLog.SequenceEqual(["  services/dns/service.log: left out: the bundle reached max_bytes"])
            || (dnsLog.Count == 1 && dnsLog[0].EndsWith("of 2097152 bytes (max_bytes limit))", StringComparison.Ordinal)),
            string.Join('\n', dnsLog));
        Assert.Contains("services/dns/config/knot.conf", sized.Keys);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Convert.FromBase64String(bySize.BundleBase64))), bySize.Sha256);
    }

    [Fact]
    public async Task Service_log_longer_than_log_bytes_is_marked_truncated()
    {
        using var temp = new TempDir();
        var state = new StateDirectory(temp.Path);
        state.EnsureCreated();
        var inventory = Inventory(temp);
        inventory.Logs[ServiceKinds.Dns] = string.Concat(Enumerable.Range(0, 5000).Select(i => $"line {i}\n"));

        var (bundle, entries) = await BuildAsync(state, inventory, new DebugBundleArgs(LogBytes: 1000));

        Assert.True(bundle.Truncated);
        Assert.EndsWith("line 4999\n", entries["services/dns/service.log"], StringComparison.Ordinal);
        Assert.StartsWith("line ", entries["services/dns/service.log"], StringComparison.Ordinal);
        Assert.True(Encoding.UTF8.GetByteCount(entries["services/dns/service.log"]) <= 1000);
        Assert.Contains("services/dns/service.log", entries["MANIFEST.txt"].Split('\n').Single(l => l.Contains("log_bytes limit", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Figures_typical_and_worst_case()
    {
        using var temp = new TempDir();
        var state = new StateDirectory(temp.Path);
        state.EnsureCreated();
        var inventory = Inventory(temp);
        WriteTextLog(temp.Combine("logs", "agent.log"), 1024 * 1024);
        inventory.Logs[ServiceKinds.Dns] = TextLog(512 * 1024);
        inventory.Logs[ServiceKinds.Dhcp4] = TextLog(512 * 1024);
        await BuildAsync(state, inventory, new DebugBundleArgs()); // warm up

        var watch = Stopwatch.StartNew();
        var (typical, _) = await BuildAsync(state, inventory, new DebugBundleArgs());
        output.WriteLine($"typical (agent log 1 MiB, two service logs 512 KiB): {watch.ElapsedMilliseconds} ms, {typical.Size} bytes, truncated {typical.Truncated}");
        Assert.False(typical.Truncated);

        WriteRandomLog(temp.Combine("logs", "agent.log"), 50 * 1024 * 1024);
        WriteRandomLog(temp.Combine("logs", "agent.log.1"), 50 * 1024 * 1024);
        inventory.Logs[ServiceKinds.Dns] = RandomText(16 * 1024 * 1024);
        inventory.Logs[ServiceKinds.Dhcp4] = RandomText(16 * 1024 * 1024);
        watch.Restart();
        var (worst, _) = await BuildAsync(state, inventory, new DebugBundleArgs());
        output.WriteLine($"worst (random logs 2 × 50 MiB agent, 2 × 16 MiB services, defaults): {watch.ElapsedMilliseconds} ms, {worst.Size} bytes, truncated {worst.Truncated}");
        Assert.True(worst.Size <= DebugBundleArgs.DefaultMaxBytes);

        watch.Restart();
        var (bounded, _) = await BuildAsync(state, inventory, new DebugBundleArgs(MaxBytes: 2 * 1024 * 1024, LogBytes: 8 * 1024 * 1024));
        output.WriteLine($"worst, bounded by max_bytes (2 MiB, log_bytes 8 MiB): {watch.ElapsedMilliseconds} ms, {bounded.Size} bytes, truncated {bounded.Truncated}");
        Assert.True(bounded.Size <= 2 * 1024 * 1024);

        watch.Restart();
        var (largest, _) = await BuildAsync(state, inventory, new DebugBundleArgs(LogBytes: 16 * 1024 * 1024));
        output.WriteLine($"worst, bounded by the default max_bytes (8 MiB, log_bytes 16 MiB): {watch.ElapsedMilliseconds} ms, {largest.Size} bytes, truncated {largest.Truncated}");
        Assert.True(largest.Size <= DebugBundleArgs.DefaultMaxBytes);
    }

    [Theory]
    [InlineData(1024, 1024)]
    [InlineData(100 * 1024 * 1024, 1024)]
    [InlineData(1024 * 1024, -1)]
    public async Task Bad_arguments_fail_the_command(int maxBytes, int logBytes)
    {
        using var temp = new TempDir();
        var handler = new DebugBundleCommandHandler(new DebugBundleBuilder(new StateDirectory(temp.Path), new FakeServiceInventory(), TimeProvider.System, NullLogger<DebugBundleBuilder>.Instance), TimeProvider.System);
        var args = System.Text.Json.JsonSerializer.SerializeToElement(new DebugBundleArgs(maxBytes, logBytes), ManagedServers.Contracts.ContractsJson.Default.DebugBundleArgs);

        var result = await handler.ExecuteAsync(new AgentCommand("c1", CommandKinds.DebugBundle, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), args), CancellationToken.None);

        Assert.False(result.Success);
        Assert.Contains("_bytes", result.Error, StringComparison.Ordinal);
    }

    internal static FakeServiceInventory Inventory(TempDir temp)
    {
        var config = Directory.CreateDirectory(temp.Combine("svc-config")).FullName;
        var knot = Path.Combine(config, "knot.conf");
        File.WriteAllText(knot, $"""
            server:
                listen: 0.0.0.0@53
            key:
              - id: tsig1
                algorithm: hmac-sha256
                secret: {KnotSecret}
            remote:
              - id: primary
                address: 192.0.2.1
                key: tsig1
            """);
        var kea = Path.Combine(config, "kea-dhcp4.conf");
        File.WriteAllText(kea, $$"""
            // Kea allows comments
            {"Dhcp4": {
              "lease-database": {"type": "postgresql", "name": "kea", "user": "kea", "password": "{{KeaPassword}}"},
              "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "user-context": {"note": "lab", "api-secret": "{{KeaContextSecret}}"} }]
            } }
            """);
        var tsigKey = Path.Combine(config, "tsig.key");
        File.WriteAllText(tsigKey, "secret material");
        var stray = Path.Combine(config, "stray.pem");
        File.WriteAllText(stray, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");

        var inventory = new FakeServiceInventory { RuntimeName = RuntimeNames.Docker };
        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dns, "0.0.0.0:53"));
        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dhcp4));
        inventory.ConfigFilesByKind[ServiceKinds.Dns] = [knot, tsigKey];
        inventory.ConfigFilesByKind[ServiceKinds.Dhcp4] = [kea, stray];
        inventory.Logs[ServiceKinds.Dns] = "dns log line\n";
        inventory.Logs[ServiceKinds.Dhcp4] = "dhcp4 log line\n";
        return inventory;
    }

    internal static async Task<(DebugBundleOutput Bundle, Dictionary<string, string> Entries)> BuildAsync(StateDirectory state, FakeServiceInventory inventory, DebugBundleArgs args)
    {
        var builder = new DebugBundleBuilder(state, inventory, TimeProvider.System, NullLogger<DebugBundleBuilder>.Instance);
        var bundle = await builder.BuildAsync(args, CancellationToken.None);
        var bytes = Convert.FromBase64String(bundle.BundleBase64);
        Assert.Equal(bundle.Size, bytes.Length);
        return (bundle, ReadTarGz(bytes));
    }

    /// <summary>Reads a tar.gz back (fails on a malformed one): entry name to UTF-8 content, in order.</summary>
    internal static Dictionary<string, string> ReadTarGz(byte[] bytes)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            Assert.Equal(TarEntryType.RegularFile, entry.EntryType);
            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            entries.Add(entry.Name, Encoding.UTF8.GetString(content.ToArray()));
        }

        return entries;
    }

    /// <summary>Hex lines of random bytes (compress about 2:1); returns the last line.</summary>
    internal static string WriteRandomLog(string path, int bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var text = RandomText(bytes);
        File.WriteAllText(path, text);
        return text[(text.LastIndexOf('\n', text.Length - 2) + 1)..];
    }

    private static string RandomText(int bytes)
    {
        var builder = new StringBuilder(bytes + 200);
        var i = 0;
        while (builder.Length < bytes)
        {
            builder.Append("2030-01-01 00:00:00.000 info: line ").Append(i++).Append(' ').Append(Convert.ToHexString(RandomNumberGenerator.GetBytes(40))).Append('\n');
        }

        return builder.ToString();
    }

    private static void WriteTextLog(string path, int bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, TextLog(bytes));
    }

    /// <summary>Log-like text (repetitive, compresses well, like real logs).</summary>
    private static string TextLog(int bytes)
    {
        var builder = new StringBuilder(bytes + 200);
        var i = 0;
        while (builder.Length + 200 < bytes)
        {
            builder.Append("2030-01-01 00:00:").Append((i % 60).ToString("00", System.Globalization.CultureInfo.InvariantCulture))
                .Append(".000 info: ManagedServers.Agent.Hosting.HeartbeatService[200] Heartbeat ").Append(i++).Append(" acknowledged\n");
        }

        return builder.ToString();
    }
}
