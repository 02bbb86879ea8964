using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>What a person meets first on a real silo: its log, the OpenAPI document and the docs page.</summary>
public sealed class ApiSurfaceTests() : SiloTestBase("surface")
{
    [Fact]
    public async Task The_silo_log_opens_with_what_an_operator_needs()
    {
        await Silo.Http.GetStringAsync(Silo.BaseUrl + "/api/v1/servers"); // a few grains placed
        var log = Silo.Output;
        Assert.DoesNotContain("Configuration Orleans.", log, StringComparison.Ordinal); // the option dump
        Assert.DoesNotContain("Overriding address(es)", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Polly", log, StringComparison.Ordinal);
        Assert.Contains("Now listening on: " + Silo.BaseUrl, log, StringComparison.Ordinal);
        var lines = log.Split('\n').Length;
        Assert.True(lines < 100, $"{lines} lines at start:\n{log}");

        // The watchdog's stall warning cannot be caused on purpose; the silo's own settings keep its category quiet.
        var settings = new ConfigurationBuilder().AddJsonFile(Path.Combine(Path.GetDirectoryName(Build.SiloDll)!, "appsettings.json")).Build();
        using var loggers = LoggerFactory.Create(b => b.AddConfiguration(settings.GetSection("Logging")).AddProvider(new NullProvider()));
        Assert.False(loggers.CreateLogger("Orleans.Runtime.Watchdog").IsEnabled(LogLevel.Warning));
        Assert.False(loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Warning));
        Assert.True(loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Error));
        Assert.True(loggers.CreateLogger("Orleans.Runtime.Silo").IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger("ManagedServers.Grains.Servers.ManagedServerGrain").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public async Task The_openapi_document_leaves_out_the_dashboard_and_puts_the_agent_endpoints_last()
    {
        using var document = JsonDocument.Parse(await Silo.Http.GetStringAsync(Silo.BaseUrl + "/api/v1/openapi.json"));
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().ToList();
        Assert.DoesNotContain(paths, p => p.Name.StartsWith("/dashboard", StringComparison.Ordinal));
        Assert.All(paths, p => Assert.StartsWith("/api/v1/", p.Name, StringComparison.Ordinal));

        var tags = document.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Equal("Agent", tags[^1]);
        Assert.Equal("Servers", tags[0]);

        // Every operation of the agent listener is tagged Agent, and the paths only agents call come after all others.
        static bool AgentOnly(JsonProperty path) => path.Value.EnumerateObject()
            .All(o => o.Value.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "Agent"));
        Assert.Contains(paths, p => p.Name == "/api/v1/agent/enroll" && AgentOnly(p));
        Assert.Contains(paths, p => p.Name == "/api/v1/monitoring/metrics" && AgentOnly(p));
        var firstAgentOnly = paths.FindIndex(AgentOnly);
        Assert.True(firstAgentOnly > 0, "no agent-only path");
        Assert.All(paths.Skip(firstAgentOnly), p => Assert.True(AgentOnly(p), $"{p.Name} is among the agent paths"));
    }

    [Fact]
    public async Task The_docs_page_has_no_feature_that_leaves_the_host()
    {
        using var anonymous = new HttpClient();
        var page = await anonymous.GetStringAsync(Silo.BaseUrl + "/api/docs/");
        var config = JsonDocument.Parse(ScalarConfiguration(page)).RootElement;
        Assert.True(config.GetProperty("agent").GetProperty("disabled").GetBoolean(), "Ask AI");
        Assert.True(config.GetProperty("mcp").GetProperty("disabled").GetBoolean(), "MCP");
        Assert.False(config.GetProperty("telemetry").GetBoolean(), "telemetry");
        Assert.Equal("never", config.GetProperty("showDeveloperTools").GetString()); // the toolbar with deploy, share and "Generate SDK"
    }

    /// <summary>The JSON configuration the page passes to Scalar's <c>initialize(…)</c>.</summary>
    private static string ScalarConfiguration(string page)
    {
        var start = page.IndexOf("initialize(", StringComparison.Ordinal);
        Assert.True(start >= 0, page);
        var open = page.IndexOf('{', start);
        var depth = 0;
        for (var i = open; i < page.Length; i++)
        {
            depth += page[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return page[open..(i + 1)];
            }
        }

        throw new Xunit.Sdk.XunitException("no configuration object in the docs page:\n" + page);
    }
}

/// <summary>A provider whose loggers take every level, so only the configured filters decide.</summary>
internal sealed class NullProvider : ILoggerProvider, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
    }

    public void Dispose()
    {
    }
}
