using System.Text.RegularExpressions;
using ManagedServers.Grains.Interfaces.Zones;
using ManagedServers.Grains.Zones;
using Xunit.Abstractions;

namespace ManagedServers.Grains.Tests.Zones;

/// <summary>
/// Real-world-style zone files (Zones/Corpus: zones signed by Knot with NSEC and NSEC3, an RFC 2317 classless reverse
/// zone, a root-style zone, a zone with every type, RFC 3597 data, zones Knot refuses, zones Knot loads with reports),
/// each checked against the real Knot on this machine: our verdict is knotd's (<c>knotc zone-check</c>); a zone that
/// only Knot's optional checks (<c>kzonecheck</c>) flag imports with warnings; and for every zone we accept, a knotd
/// serving our export answers AXFR with exactly the records a knotd serving the original file does — the same owners,
/// TTLs, types and RDATA, as Knot reads them.
/// </summary>
public sealed partial class ZoneCorpusTests(ITestOutputHelper output)
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "Zones", "Corpus");

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Corpus, "*.zone").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Our_verdict_is_knots_and_knot_serves_our_export_as_the_original(string file)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(Corpus, file));
        var zone = ZoneNames.Normalize(Origin().Match(text).Groups[1].Value);
        var ours = ZoneFileParser.Parse(text, zone);
        var (loads, messages) = Knot.ZoneCheck([(zone, text)])[zone];
        output.WriteLine($"{file} ({zone}): knotd {(loads ? "loads it" : "refuses it")}; we {(ours.Ok ? "accept it" : "refuse it")}");
        output.WriteLine($"knotd: {messages}");
        foreach (var line in ours.Errors.Concat(ours.Warnings))
        {
            output.WriteLine($"ours: {line}");
        }

        Assert.Equal(loads, ours.Ok);
        Assert.Equal(!file.StartsWith("refused-", StringComparison.Ordinal), ours.Ok);
        if (!ours.Ok)
        {
            Assert.All(ours.Errors, e => Assert.True(e.Line > 0));
            return;
        }

        // What only the optional checks flag imports with a warning.
        var (code, optional) = Knot.KzoneCheck(zone, text, dnssec: false);
        output.WriteLine($"kzonecheck -d off: exit {code}\n{optional}");
        if (code != 0 || file.StartsWith("warn-", StringComparison.Ordinal))
        {
            Assert.NotEmpty(ours.Warnings);
        }

        // Knot serves our export exactly as it serves the original.
        var export = ZoneText.Render(ours.Apex, ours.Records);
        var original = await Knot.AxfrAsync(zone, text);
        var stored = await Knot.AxfrAsync(zone, export);
        Assert.Equal(original, stored);
        Assert.Equal(ours.Records.Length, stored.Count);

        // Knot's wire form of each record, read back as RFC 3597 data, is the record we store.
        var generic = await Knot.AxfrAsync(zone, text, generic: true);
        var fromWire = ZoneFileParser.Parse(string.Join("\n", generic) + "\n", zone);
        Assert.True(fromWire.Ok, string.Join("\n", fromWire.Errors));
        Assert.Equal(ours.Records.Order(RecordOrder.Instance), fromWire.Records.Order(RecordOrder.Instance));
    }

    [GeneratedRegex(@"^\$ORIGIN[ \t]+(\S+)", RegexOptions.Multiline)]
    private static partial Regex Origin();

    private sealed class RecordOrder : IComparer<ZoneRecord>
    {
        public static readonly RecordOrder Instance = new();

        public int Compare(ZoneRecord x, ZoneRecord y) =>
            string.CompareOrdinal($"{x.Owner} {x.Type} {x.Data} {x.Ttl}", $"{y.Owner} {y.Type} {y.Data} {y.Ttl}");
    }
}
