using System.Globalization;
using System.Text;
using ManagedServers.Grains.Interfaces.Zones;
using ManagedServers.Grains.Zones;

namespace ManagedServers.Grains.Tests.Zones;

/// <summary>
/// Owner names as the records API takes them, with every kind of byte a label can hold (letters, digits, '$' and '@'
/// first, ':', space, ';', '(', ')', '"', '\', '.', control and high bytes, written raw where the field allows it or as
/// \DDD / \c escapes): whatever the records API accepts, the exported zone file reads back as the same records, and
/// knotd loads it. A name the exporter wrote unescaped would turn into a directive ("$include …"), a comment or a
/// different owner.
/// </summary>
public sealed class OwnerNameRoundTripTests
{
    private const string Zone = "example.test";
    private const string Head = "$ORIGIN example.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n";

    private static readonly string Specials = "$@:;()\"\\. *#-_/";

    [Fact]
    public void Known_troublemakers_round_trip()
    {
        var names = new[] { "$include", "$ORIGIN", "$TTL", "a:b", "@x", "x@", "semi;colon", "(paren", "paren)", "sp ace", "quo\"te", "back\\\\slash", "\\$include", "\\046dot", "\\000nul", "\\255high", "*", "a.*.b", "#hash" };
        AssertRoundTrip(names);
    }

    [Fact]
    public void Random_owner_labels_round_trip_and_load_in_knot()
    {
        var random = new Random(20261203);
        var names = new List<string>();
        for (var i = 0; i < 400; i++)
        {
            var labels = new string[random.Next(1, 4)];
            for (var l = 0; l < labels.Length; l++)
            {
                var label = new StringBuilder();
                var length = random.Next(1, 12);
                for (var c = 0; c < length; c++)
                {
                    label.Append(random.Next(4) switch
                    {
                        0 => (char)('a' + random.Next(26)),
                        1 => Specials[random.Next(Specials.Length)].ToString(),
                        2 => "\\" + random.Next(256).ToString("D3", CultureInfo.InvariantCulture),
                        _ => "\\" + Specials[random.Next(Specials.Length)],
                    });
                }

                labels[l] = label.ToString();
            }

            names.Add(string.Join('.', labels));
        }

        var accepted = AssertRoundTrip(names);
        Assert.True(accepted > 50, $"only {accepted} of {names.Count} names were accepted: the generator tests little");
    }

    /// <summary>Adds each name as a TXT record through the records API's parser, exports, re-imports, and has knotd load the export.</summary>
    private static int AssertRoundTrip(IReadOnlyList<string> names)
    {
        var zone = ZoneFileParser.Parse(Head, Zone);
        Assert.True(zone.Ok);
        var records = new List<ZoneRecord>(zone.Records);
        var accepted = 0;
        foreach (var name in names)
        {
            var (record, errors) = ZoneFileParser.ParseRecord(new ZoneRecordInput(name, "TXT", 300, "\"x\""), Zone, 3600);
            if (record is { } r && errors.IsEmpty)
            {
                accepted++;
                if (!records.Contains(r))
                {
                    records.Add(r);
                }
            }
            else
            {
                Assert.All(errors, e => Assert.True(e.Field is "name" or null or "", $"'{name}': {e.Field}: {e.Message}"));
            }
        }

        var text = ZoneText.Render(ZoneNames.Apex(Zone), records);
        var again = ZoneFileParser.Parse(text, Zone);
        Assert.True(again.Ok, string.Join("\n", again.Errors.Select(e => $"line {e.Line}: {e.Message}")) + "\n" + text);
        Assert.Equal(records.OrderBy(r => r.Owner, StringComparer.Ordinal).ThenBy(r => r.Type), again.Records.OrderBy(r => r.Owner, StringComparer.Ordinal).ThenBy(r => r.Type));

        var knot = Knot.ZoneCheck([(Zone, text)]);
        Assert.True(knot[Zone].Loads, knot[Zone].Messages + "\n" + text);
        return accepted;
    }
}
