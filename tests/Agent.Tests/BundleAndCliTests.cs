using System.Text;
using ManagedServers.Agent.Enrollment;
using ManagedServers.Agent.Startup;

namespace ManagedServers.Agent.Tests;

public sealed class BundleAndCliTests
{
    private static readonly string CaPem = CreateCaPem();

    [Fact]
    public void Valid_bundle_parses()
    {
        var bundle = SetupBundleReader.Parse(Encoding.UTF8.GetBytes(BundleJson()), "bundle");
        Assert.Equal("srv-1", bundle.Bundle.ServerId);
        Assert.Equal(new Uri("https://127.0.0.1:5001"), bundle.AgentUri);
        Assert.Single(bundle.Trust.Roots);
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("{\"format_version\": 1,", "malformed JSON (line 1")]
    [InlineData("[1,2]", "not a valid setup bundle")]
    [InlineData("{\"format_version\": 2}", "format_version 2 is not supported")]
    [InlineData("{\"server_id\": \"x\"}", "missing 'format_version'")]
    public void Broken_bundles_give_readable_messages(string json, string expected)
    {
        var error = Assert.Throws<AgentException>(() => SetupBundleReader.Parse(Encoding.UTF8.GetBytes(json), "bundle 'b.json'"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("bundle 'b.json'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server_id", "", "missing 'server_id'")]
    [InlineData("enrollment_token", "", "missing 'enrollment_token'")]
    [InlineData("agent_url", "http://127.0.0.1:5001", "must be an https:// URL")]
    [InlineData("agent_url", "", "missing 'agent_url'")]
    [InlineData("ca_certificate_pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "ca_certificate_pem is not a valid PEM certificate")]
    [InlineData("ca_certificate_pem", "hello", "contains no PEM certificate")]
    public void Bad_fields_are_named(string field, string value, string expected)
    {
        var error = Assert.Throws<AgentException>(() => SetupBundleReader.Parse(Encoding.UTF8.GetBytes(BundleJson(field, value)), "bundle"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_bundle_file_is_named()
    {
        var error = Assert.Throws<AgentException>(() => SetupBundleReader.ReadFile("/nonexistent/bundle.json"));
        Assert.Equal("bundle file '/nonexistent/bundle.json' not found", error.Message);
    }

    [Fact]
    public async Task Enroll_with_broken_bundle_prints_one_line_and_exits_1()
    {
        using var temp = new TempDir();
        var bundle = temp.Combine("bundle.json");
        await File.WriteAllTextAsync(bundle, "{");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await AgentProgram.MainAsync(["enroll", "--bundle", bundle, "--state-dir", temp.Combine("state")], stdout, stderr);

        Assert.Equal(1, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("enroll failed: bundle ", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("state")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("frobnicate")]
    [InlineData("enroll --bundle b.json")]
    [InlineData("enroll --bundle")]
    [InlineData("run --state-dir a --state-dir b")]
    [InlineData("run --bundle b.json --state-dir a")]
    [InlineData("run extra")]
    public async Task Bad_arguments_print_usage_and_exit_2(string commandLine)
    {
        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await AgentProgram.MainAsync(args, stdout, stderr);

        Assert.Equal(2, code);
        Assert.Contains("usage:", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Good_arguments_parse()
    {
        Assert.True(CommandLine.TryParse(["enroll", "--bundle=b.json", "--state-dir", "/var/lib/x"], out var enroll, out _));
        Assert.Equal(new ParsedCommand(AgentVerb.Enroll, "b.json", "/var/lib/x"), enroll);
        Assert.True(CommandLine.TryParse(["run", "--state-dir", "/s"], out var run, out _));
        Assert.Equal(new ParsedCommand(AgentVerb.Run, null, "/s"), run);
        Assert.True(CommandLine.TryParse(["--help"], out var help, out _));
        Assert.Equal(AgentVerb.Help, help.Verb);
    }

    [Theory]
    [InlineData(null, Microsoft.Extensions.Logging.LogLevel.Information, false)]
    [InlineData("Debug", Microsoft.Extensions.Logging.LogLevel.Debug, false)]
    [InlineData("warn", Microsoft.Extensions.Logging.LogLevel.Warning, false)]
    [InlineData("loud", Microsoft.Extensions.Logging.LogLevel.Information, true)]
    public void Log_level_variable_is_parsed(string? text, Microsoft.Extensions.Logging.LogLevel expected, bool hasError)
    {
        Assert.Equal(expected, AgentProgram.ParseLogLevel(text, out var error));
        Assert.Equal(hasError, error is not null);
    }

    [Fact]
    public void Os_pretty_name_and_version_are_cleaned()
    {
        Assert.Equal("Debian GNU/Linux 12 (bookworm)", AgentInfo.ReadPrettyName(["NAME=\"Debian GNU/Linux\"", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\""]));
        Assert.Null(AgentInfo.ReadPrettyName(["NAME=x"]));
        Assert.Equal("1.2.3", AgentInfo.StripBuildMetadata("1.2.3+abcdef"));
        Assert.DoesNotContain('+', AgentInfo.Version);
    }

    private static string BundleJson(string? field = null, string? value = null)
    {
        var fields = new Dictionary<string, object>
        {
            ["format_version"] = 1,
            ["server_id"] = "srv-1",
            ["server_name"] = "dns-1",
            ["agent_url"] = "https://127.0.0.1:5001",
            ["ca_certificate_pem"] = CaPem,
            ["enrollment_token"] = "tok",
            ["token_expires_at"] = "2030-01-01T00:00:00Z",
        };
        if (field is not null)
        {
            fields[field] = value!;
        }

        var json = new System.Text.Json.Nodes.JsonObject();
        foreach (var (k, v) in fields)
        {
            json[k] = v is int i ? i : (string)v;
        }

        return json.ToJsonString();
    }

    private static string CreateCaPem()
    {
        using var ca = TestCa.Create();
        return ca.Pem;
    }
}
