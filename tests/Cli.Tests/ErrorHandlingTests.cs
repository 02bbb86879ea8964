using System.Net;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Config;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Tests;

public sealed class ErrorHandlingTests : IDisposable
{
    private readonly CliTestHost _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task UnreachableUrl_Exits2WithOneLine()
    {
        var url = TestUtil.ClosedPortUrl();
        _cli.Env["MANAGEDSERVERS_URL"] = url;

        var run = await _cli.RunAsync("servers", "list");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"error: cannot reach {url}: ", run.ErrorLine, StringComparison.Ordinal);
        Assert.Contains("refused", run.ErrorLine, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task Debug_AddsStackTrace()
    {
        _cli.Env["MANAGEDSERVERS_URL"] = TestUtil.ClosedPortUrl();

        var run = await _cli.RunAsync("servers", "list", "--debug");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: cannot reach", run.StderrLines[0], StringComparison.Ordinal);
        Assert.Contains("ApiUnreachableException", run.Stderr);
    }

    [Fact]
    public async Task NoUrlConfigured_TellsToLogin()
    {
        var run = await _cli.RunAsync("servers", "list");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: no control plane configured: run 'msctl login --url URL' or set MANAGEDSERVERS_URL", run.ErrorLine);
    }

    [Theory]
    [InlineData("servers", "list", "--bogus")]
    [InlineData("servers", "frobnicate")]
    [InlineData("servers", "show")]
    [InlineData("servers", "list", "-o", "xml")]
    [InlineData("servers", "list", "--page", "0")]
    [InlineData("servers", "list", "--url", "ftp://example.org")]
    public async Task BadUsage_Exits2WithOneLine(params string[] args)
    {
        _cli.Env["MANAGEDSERVERS_URL"] = TestUtil.ClosedPortUrl();

        var run = await _cli.RunAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", run.ErrorLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsExamples()
    {
        var run = await _cli.RunAsync("servers", "add", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("msctl servers add dns-01 --kind dns", run.Stdout);
        Assert.Contains("--monitoring-api-ip", run.Stdout);
    }

    [Fact]
    public async Task Examples_AllParse()
    {
        var console = new Spectre.Console.Testing.TestConsole();
        var app = CliApp.Create(new CliHost { Console = console, Error = TextWriter.Null });
        app.Configure(c => c.ValidateExamples());

        Assert.Equal(0, await app.RunAsync(["--help"]));
    }

    [Fact]
    public void Problem_WithFieldErrors_FormatsEveryMessage()
    {
        var ex = ApiException.FromResponse(HttpStatusCode.BadRequest, "Bad Request", """
            {"type":"x","title":"Invalid server","status":400,
             "errors":{"name":["is required","is too short"],"address":["not an IP"]}}
            """);

        Assert.Equal("Invalid server: name: is required; name: is too short; address: not an IP", ex.Message);
        Assert.Equal(2, ex.Errors.Count);
    }

    [Fact]
    public void Problem_WithDetailOnly_UsesDetail()
    {
        var ex = ApiException.FromResponse(HttpStatusCode.Forbidden, "Forbidden", """{"title":"Forbidden","detail":"needs group admins"}""");

        Assert.Equal("Forbidden: needs group admins", ex.Message);
    }

    [Fact]
    public void NonJsonError_UsesReasonPhraseAndFirstLine()
    {
        var ex = ApiException.FromResponse(HttpStatusCode.BadGateway, "Bad Gateway", "upstream down\nmore");

        Assert.Equal("Bad Gateway: upstream down", ex.Message);
    }

    [Theory]
    [InlineData("http://cp:5000", "http://cp:5000/")]
    [InlineData("https://cp.example.org/", "https://cp.example.org/")]
    [InlineData("https://cp.example.org/api/v1", "https://cp.example.org/")]
    [InlineData("https://proxy/ms/api/v1/", "https://proxy/ms/")]
    public void Url_IsNormalized(string input, string expected) =>
        Assert.Equal(expected, Connection.ParseUrl(input).ToString());

    [Fact]
    public void Args_QAliasAndNegativeSortValue_AreRewritten() =>
        Assert.Equal(
            ["servers", "list", "--query", "dns", "--sort=-name", "--query=x"],
            CliApp.NormalizeArgs(["servers", "list", "--q", "dns", "--sort", "-name", "--q=x"]));
}
