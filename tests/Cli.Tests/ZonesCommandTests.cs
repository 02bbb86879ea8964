using System.Text.Json;

namespace ManagedServers.Cli.Tests;

public sealed class ZonesCommandTests() : FakeApiTests(useApi: true)
{
    private const string Good = "$ORIGIN example.test.\n@ SOA ns1 hm 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n";

    private string Write(string name, string text)
    {
        var path = Path.Combine(Cli.WorkDir, name);
        File.WriteAllText(path, text);
        return name;
    }

    [Fact]
    public async Task Import_takes_the_name_from_origin_then_lists_shows_and_exports()
    {
        var run = await Cli.RunAsync("zones", "import", Write("whatever.zone", Good));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Imported zone example.test", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(Good, Api.Zones["example.test"].Text);

        var list = await Cli.RunAsync("zones", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("example.test", list.Stdout, StringComparison.Ordinal);

        var show = await Cli.RunAsync("zones", "show", "example.test", "-o", "json");
        Assert.Equal("example.test", JsonDocument.Parse(show.Stdout).RootElement.GetProperty("name").GetString());

        var export = await Cli.RunAsync("zones", "export", "example.test", "-f", "out.zone");
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal(Good, File.ReadAllText(Path.Combine(Cli.WorkDir, "out.zone")));
        var stdout = await Cli.RunAsync("zones", "export", "example.test");
        Assert.Equal(Good, stdout.Stdout);

        var replace = await Cli.RunAsync("zones", "import", Write("example.test.zone", Good + "www A 192.0.2.2\n"), "--replace");
        Assert.True(replace.ExitCode == 0, replace.ToString());
        Assert.Equal(2, Api.Zones["example.test"].View.Serial);

        var delete = await Cli.RunAsync("zones", "delete", "example.test", "--yes");
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Empty(Api.Zones);
    }

    [Fact]
    public async Task A_refused_import_prints_one_line_per_error_with_file_and_line()
    {
        var run = await Cli.RunAsync("zones", "import", Write("example.test.zone", "@ SOA ns1 hm 1 2 3 4 5\n@ NS ns1\nwww A BAD1\nx A BAD2\n"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            ["error: example.test.zone:3: A record 'www': 'BAD1' is not an IPv4 address", "error: example.test.zone:4: A record 'www': 'BAD2' is not an IPv4 address"],
            run.StderrLines);
        Assert.Empty(Api.Zones); // the name came from the file name; nothing stored
    }

    [Fact]
    public async Task An_import_with_warnings_succeeds_and_prints_each_warning_with_file_and_line()
    {
        var run = await Cli.RunAsync("zones", "import", Write("glue.zone", Good + "@ NS ns2 ; WARN\n"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Imported zone example.test: 6 records, serial 1, 1 warning(s):", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(["warning: glue.zone:5: NS record '@': missing glue"], run.StderrLines);
        Assert.True(Api.Zones.ContainsKey("example.test"));
    }

    [Fact]
    public async Task The_root_zone_and_classless_names_travel_in_the_path_as_the_api_documents()
    {
        var root = await Cli.RunAsync("zones", "import", Write("root.zone", "$ORIGIN .\n. SOA a.root-servers.net. hm. 1 2 3 4 5\n. NS a.root-servers.net.\n"));
        Assert.True(root.ExitCode == 0, root.ToString());
        Assert.True(Api.Zones.ContainsKey("."), string.Join(", ", Api.Zones.Keys)); // the name from "$ORIGIN ." is "." (it was "")

        await Cli.RunAsync("zones", "show", ".");
        await Cli.RunAsync("zones", "export", "0/25.2.0.192.in-addr.arpa.");
        Assert.Contains("GET /api/v1/zones/@", Api.Requests);
        Assert.Contains("GET /api/v1/zones/0%2F25.2.0.192.in-addr.arpa/export", Api.Requests);
    }

    [Fact]
    public async Task Records_add_list_delete()
    {
        await Cli.RunAsync("zones", "import", Write("a.zone", Good));
        var add = await Cli.RunAsync("zones", "records", "add", "example.test", "www", "A", "192.0.2.80", "--ttl", "60");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("serial 2", add.Stdout, StringComparison.Ordinal);

        var bad = await Cli.RunAsync("zones", "records", "add", "example.test", "www", "A", "300.1.1.1");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("data", bad.ErrorLine, StringComparison.Ordinal);

        var list = await Cli.RunAsync("zones", "records", "list", "example.test");
        Assert.Contains("192.0.2.80", list.Stdout, StringComparison.Ordinal);

        var delete = await Cli.RunAsync("zones", "records", "delete", "example.test", "r1");
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Contains("serial 3", delete.Stdout, StringComparison.Ordinal);
    }
}
