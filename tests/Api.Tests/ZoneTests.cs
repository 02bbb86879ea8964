using ManagedServers.Api.Ui.Pages.Zones;
using ManagedServers.Api.Ui.Shared;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Api.Tests;

/// <summary>The zone pages' pieces: the API's refusals matched to the lines they name, and the records grid's form.</summary>
public sealed class ZoneTests : BunitContext
{
    private const string File = "$ORIGIN a.test.\n@ SOA ns1 hostmaster 1 2 3 4 5\r\nwww A 192.0.2.999\n";

    [Fact]
    public void Errors_by_line_quote_the_line_they_name_and_keep_the_others_as_they_are()
    {
        var matched = ZoneText.Match(File, ["line 3: A record 'www': '192.0.2.999' is not an IPv4 address", "line 40: past the end", "the zone has no NS record"]);
        Assert.Equal(new ZoneText.LineError(3, "A record 'www': '192.0.2.999' is not an IPv4 address", "www A 192.0.2.999"), matched[0]);
        Assert.Equal(new ZoneText.LineError(40, "past the end", null), matched[1]);
        Assert.Equal(new ZoneText.LineError(0, "the zone has no NS record", null), matched[2]);
        Assert.Equal("@ SOA ns1 hostmaster 1 2 3 4 5", ZoneText.Match(File, ["line 2: x"])[0].Source); // no carriage return
    }

    [Fact]
    public void The_error_list_shows_each_line_number_message_and_source_and_nothing_without_errors()
    {
        var list = Render<ZoneFileErrors>(p => p.Add(e => e.Text, File).Add(e => e.Errors, ["line 3: not an IPv4 address"]));
        var item = list.Find("[data-testid=zone-error]");
        Assert.Equal("3", item.GetAttribute("data-line"));
        Assert.Contains("Line 3", item.TextContent, StringComparison.Ordinal);
        Assert.Equal("www A 192.0.2.999", item.QuerySelector("code")!.TextContent);
        Assert.Equal("alert", list.Find("[data-testid=zone-errors]").GetAttribute("role"));

        Assert.Empty(Render<ZoneFileErrors>(p => p.Add(e => e.Text, File)).Markup.Trim());
    }

    [Fact]
    public void A_records_form_takes_an_empty_ttl_as_the_default_and_names_a_ttl_that_is_not_a_number()
    {
        var form = new RecordForm { Name = " www ", Type = "A", Ttl = " ", Data = "192.0.2.1" };
        Assert.True(form.TryTtl(out var none));
        Assert.Null(none);
        Assert.Equal(new ZoneRecordRequest("www", "A", null, "192.0.2.1"), form.Request(none));

        form.Ttl = "5m";
        Assert.False(form.TryTtl(out _));
        Assert.Equal("'5m' is not a number of seconds", form.Error("ttl"));
        form.Ttl = "300";
        Assert.True(form.TryTtl(out var ttl));
        Assert.Equal(300, ttl);
        Assert.Null(form.Error("ttl"));

        var edit = RecordForm.Of(new ZoneRecordView("id1", "www.a.test.", "A", 60, "192.0.2.2"));
        Assert.Equal(("id1", "60"), (edit.Id, edit.Ttl));
    }

    [Fact]
    public void A_side_by_side_diff_pairs_lines_and_marks_each_change_in_words_not_only_colour()
    {
        var diff = Render<SideBySideDiff>(p => p
            .Add(d => d.OldText, "server:\n  listen: 127.0.0.1@53\nzone:\n  - domain: a.test\n")
            .Add(d => d.NewText, "server:\n  listen: 127.0.0.1@5353\nzone:\n  - domain: a.test\n  - domain: b.test\n")
            .Add(d => d.OldTitle, "Version 1").Add(d => d.NewTitle, "Version 2"));
        var rows = diff.FindAll("[data-testid=diff] tbody tr");
        Assert.Equal("same", rows[0].QuerySelectorAll("td")[1].GetAttribute("data-change"));
        Assert.Equal(("changed", "changed"), (rows[1].QuerySelectorAll("td")[1].GetAttribute("data-change"), rows[1].QuerySelectorAll("td")[3].GetAttribute("data-change")));
        var added = diff.FindAll("td[data-change=added]");
        Assert.Equal("  - domain: b.test", Assert.Single(added).TextContent);
        Assert.Contains("1 line(s) added, 0 removed, 1 changed", diff.Find("[data-testid=diff-summary]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Version 1", diff.Find("thead").TextContent, StringComparison.Ordinal);

        var same = Render<SideBySideDiff>(p => p.Add(d => d.OldText, "x").Add(d => d.NewText, "x"));
        Assert.NotNull(same.Find("[data-testid=diff-identical]"));
    }
}
