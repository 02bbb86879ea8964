using System.Runtime.CompilerServices;
using ManagedServers.Agent.Dns;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.Tests.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Dns;

/// <summary>
/// knot.conf as rendered from specs, against golden files (Dns/golden/*.conf; <c>MS_UPDATE_GOLDEN=1</c> rewrites them),
/// each of which the host's <c>knotc conf-check</c> accepts.
/// </summary>
public sealed class KnotConfTests
{
    private static readonly ServiceLayout Layout = KnotEngine.LayoutAt("/srv/ms/services/dns");
    private static readonly string[] DefaultListen = ["0.0.0.0@53", "::@53"];

    public static TheoryData<string> Cases => ["no-zones", "zones", "listen-list", "stats-dnstap-off", "no-dnstap-module"];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Renders_the_golden_file_and_knotc_accepts_it(string name)
    {
        var rendered = Render(name);
        var golden = Path.Combine(GoldenDirectory(), name + ".conf");
        if (Environment.GetEnvironmentVariable("MS_UPDATE_GOLDEN") == "1")
        {
            await File.WriteAllTextAsync(golden, rendered);
        }

        Assert.Equal(await File.ReadAllTextAsync(golden), rendered);
        var (code, output) = await ServiceTestHost.RunAsync("knotc", "-c", golden, "conf-check");
        Assert.True(code == 0, $"knotc conf-check {golden}: {output}");
    }

    [Theory]
    [InlineData("192.0.2.1@53", "192.0.2.1@53")]
    [InlineData("::1@5353", "::1@5353")]
    [InlineData("[2001:db8::1]@53", "2001:db8::1@53")]
    [InlineData("192.0.2.1", "192.0.2.1@53")]
    public void Listen_entries_are_normalized(string entry, string expected) =>
        Assert.Equal(expected, Assert.Single(KnotConf.ValidateListen([entry])));

    [Theory]
    [InlineData("", "is not an address or address@port")]
    [InlineData("192.0.2.300@53", "is not an address or address@port")]
    [InlineData("host.example@53", "is not an address or address@port")]
    [InlineData("192.0.2.1@0", "between 1 and 65535")]
    [InlineData("192.0.2.1@http", "between 1 and 65535")]
    public void Bad_listen_entries_are_named(string entry, string problem)
    {
        var error = Assert.Throws<ArgumentException>(() => KnotConf.ValidateListen([entry]));
        Assert.Contains($"'{entry}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.test", true)]
    [InlineData("_tcp.example-1.test", true)]
    [InlineData("Example.test", false)]
    [InlineData("example.test.", false)]
    [InlineData("../etc", false)]
    [InlineData("a..b", false)]
    [InlineData(".", true)]
    [InlineData("0/25.2.0.192.in-addr.arpa", true)]
    [InlineData("/etc", false)]
    [InlineData("a/.b", false)]
    [InlineData("", false)]
    public void Zone_names_that_name_files_safely(string name, bool valid) => Assert.Equal(valid, KnotConf.IsValidZoneName(name));

    [Theory]
    [InlineData("example.test", "example.test.zone")]
    [InlineData("0/25.2.0.192.in-addr.arpa", "0@25.2.0.192.in-addr.arpa.zone")]
    [InlineData(".", "@.zone")]
    public void Zone_file_names_have_no_slash_and_no_percent(string zone, string file) => Assert.Equal(file, KnotConf.ZoneFileName(zone));

    private static string Render(string name) => name switch
    {
        "no-zones" => KnotConf.Render(new DnsConfigSpec([], []), Layout, DefaultListen, dnstapAvailable: true),
        "zones" => KnotConf.Render(new DnsConfigSpec([], [new("example.test", 5), new("0.2.192.in-addr.arpa", 1)]), Layout, DefaultListen, dnstapAvailable: true),
        "listen-list" => KnotConf.Render(new DnsConfigSpec(["192.0.2.53@53", "2001:db8::53@5353"], [new("example.test", 5)]), Layout, DefaultListen, dnstapAvailable: true),
        "stats-dnstap-off" => KnotConf.Render(new DnsConfigSpec([], [new("example.test", 5)], Statistics: false, Dnstap: false), Layout, DefaultListen, dnstapAvailable: true),
        "no-dnstap-module" => KnotConf.Render(new DnsConfigSpec([], [new("example.test", 5)]), Layout, DefaultListen, dnstapAvailable: false),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static string GoldenDirectory([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "golden");
}
