using ManagedServers.Api.Ui.Shared;
using ManagedServers.Contracts.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ManagedServers.Api.Tests;

/// <summary>The UI's shared components and its reading of the API handlers' answers, rendered with bUnit.</summary>
public sealed class ComponentTests : BunitContext
{
    [Theory]
    [InlineData("running", "Running")]
    [InlineData("unreachable", "Unreachable")]
    [InlineData("pending", "Pending")]
    [InlineData("", "Unknown")]
    public void A_server_state_is_shown_in_words_and_in_its_colour_class(string state, string words)
    {
        var badge = Render<ServerStateBadge>(p => p.Add(b => b.State, state));
        var span = badge.Find("span");
        Assert.Equal(words, span.TextContent);
        Assert.Contains($"ms-state-{state}", span.ClassList);
    }

    [Fact]
    public void A_sort_header_asks_for_its_key_and_shows_the_direction_of_the_current_sort()
    {
        string? asked = null;
        var header = Render<SortHeader>(p => p
            .Add(h => h.Key, "name").Add(h => h.Label, "Server Name").Add(h => h.Current, "name").Add(h => h.Descending, true)
            .Add(h => h.OnSort, key => asked = key));
        Assert.Contains("▼", header.Markup, StringComparison.Ordinal);
        Assert.Equal("Sort by Server Name", header.Find("button").GetAttribute("aria-label"));
        header.Find("button").Click();
        Assert.Equal("name", asked);

        var other = Render<SortHeader>(p => p.Add(h => h.Key, "state").Add(h => h.Label, "State").Add(h => h.Current, "name"));
        Assert.DoesNotContain("▲", other.Markup, StringComparison.Ordinal);
        Assert.Equal("none", SortHeader.AriaSort("state", "name", false));
        Assert.Equal("descending", SortHeader.AriaSort("name", "name", true));
    }

    [Fact]
    public async Task A_refusal_from_an_api_handler_becomes_field_messages_and_a_form_message()
    {
        var refused = await UiCall.RunAsync(() => Task.FromResult<IResult>(TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["address"] = ["'x y' is neither an IP address nor a host name"] }, title: "The request has invalid fields")));
        Assert.False(refused.Ok);
        Assert.Equal("'x y' is neither an IP address nor a host name", refused.FieldError("address"));
        Assert.Null(refused.FieldError("name"));
        Assert.Equal("The request has invalid fields", refused.Message);

        var conflict = await UiCall.RunAsync(() => throw new Grains.Interfaces.Servers.ConflictException("a server named 'a' already exists") { Field = "name" });
        Assert.Equal("a server named 'a' already exists", conflict.FieldError("name"));

        var created = await UiCall.RunAsync(() => Task.FromResult<IResult>(TypedResults.Created("/x", new TokenView("t", "n", "u", DateTimeOffset.UnixEpoch, null, null))));
        Assert.True(created.Ok);
        Assert.Equal("t", created.Value<TokenView>()?.Id);
    }
}
