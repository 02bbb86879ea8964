using System.Diagnostics;
using ManagedServers.Grains.Interfaces.Zones;
using ManagedServers.Grains.Zones;

namespace ManagedServers.Grains.Tests.Zones;

public sealed class ZoneFileParserTests
{
    private const string Head = "$ORIGIN example.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n";

    /// <summary>Every supported type, in presentation forms that are not canonical (relative names, case, spacing, parens, comments).</summary>
    public const string AllTypes = """
        $ORIGIN Example.Test.
        $TTL 1h
        @   IN  SOA ns1 hostmaster ( 2024010101 ; serial
                    2h 1h 2w 5m )   ; timers
            IN  NS  ns1
            IN  NS  ns2.other.test.
            IN  MX  10 mail
            IN  TXT "v=spf1 mx -all" "second; string" unquoted
            IN  CAA 0 ISSUE "letsencrypt.org"
            IN  DS  12345 8 2 ( 49FD46E6C4B45C55D4AC69CBD3CD34AC
                                1AFE51DE16E43C5DC3A2C4E2AF67F1E1 )
        ns1 300 IN A 192.0.2.1
        ns1 IN 300 AAAA 2001:DB8:0:0::1
        mail A 192.0.2.25
        www CNAME @
        _sip._tcp SRV 10 60 5060 sip
        sip A 192.0.2.30
        _443._tcp.www TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
        1.2.0.192.in-addr.arpa. ; outside? no: below the apex it is not
        x TYPE65534 \# 3 abcdef
        y TYPE1 \# 4 C0000202
        $ORIGIN sub.example.test.
        host PTR www.example.test.
        """;

    /// <summary><see cref="AllTypes"/> without its line outside the zone: every type, all valid.</summary>
    private static readonly string AllTypesInZone = AllTypes.Replace("1.2.0.192.in-addr.arpa. ; outside? no: below the apex it is not\n", string.Empty, StringComparison.Ordinal);

    private static ZoneParseResult Parse(string text, string zone = "example.test") => ZoneFileParser.Parse(text, zone);

    private static string OneError(string text)
    {
        var result = Parse(text);
        Assert.False(result.Ok, "expected an error");
        return string.Join("\n", result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Parses_every_type_to_canonical_data()
    {
        var text = AllTypesInZone;
        var result = Parse(text);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        string Data(string owner, ushort type) => Assert.Single(result.Records, r => r.Owner == owner && r.Type == type).Data;

        Assert.Equal("ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300", Data("example.test.", RecordTypes.Soa));
        Assert.Equal(3600, result.Records.Single(r => r.Type == RecordTypes.Soa).Ttl);
        Assert.Equal("10 mail.example.test.", Data("example.test.", RecordTypes.Mx));
        Assert.Equal("\"v=spf1 mx -all\" \"second; string\" \"unquoted\"", Data("example.test.", RecordTypes.Txt));
        Assert.Equal("0 issue \"letsencrypt.org\"", Data("example.test.", RecordTypes.Caa));
        Assert.Equal("12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE16E43C5DC3A2C4E2AF67F1E1", Data("example.test.", RecordTypes.Ds));
        Assert.Equal("2001:db8::1", Data("ns1.example.test.", RecordTypes.Aaaa));
        Assert.Equal(300, result.Records.Single(r => r.Type == RecordTypes.Aaaa).Ttl);
        Assert.Equal("example.test.", Data("www.example.test.", RecordTypes.Cname));
        Assert.Equal("10 60 5060 sip.example.test.", Data("_sip._tcp.example.test.", RecordTypes.Srv));
        Assert.Equal("3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6", Data("_443._tcp.www.example.test.", RecordTypes.Tlsa));
        Assert.Equal("\\# 3 ABCDEF", Data("x.example.test.", 65534));
        Assert.Equal("192.0.2.2", Data("y.example.test.", RecordTypes.A));
        Assert.Equal("www.example.test.", Data("host.sub.example.test.", RecordTypes.Ptr));
    }

    [Fact]
    public void Export_then_import_gives_the_same_records_and_the_same_text()
    {
        var text = AllTypesInZone;
        var first = Parse(text);
        Assert.True(first.Ok, string.Join("\n", first.Errors));
        var exported = ZoneText.Render(first.Apex, first.Records);
        var second = Parse(exported);
        Assert.True(second.Ok, string.Join("\n", second.Errors) + "\n" + exported);
        Assert.Equal(first.Records.ToHashSet(), second.Records.ToHashSet());
        Assert.Equal(first.Records, second.Records); // same canonical order
        Assert.Equal(exported, ZoneText.Render(second.Apex, second.Records));

        var lines = exported.Split('\n');
        Assert.Equal("$ORIGIN example.test.", lines[0]);
        Assert.Equal("$TTL 3600", lines[1]);
        Assert.StartsWith("@\t3600\tIN\tSOA\t", lines[2], StringComparison.Ordinal);
        Assert.Contains("x\t3600\tIN\tTYPE65534\t\\# 3 ABCDEF", lines);
    }

    /// <summary>
    /// A second, independent implementation reads our export: ARSoft.Tools.Net's master-file parser (a well-kept .NET DNS
    /// library; too slow and too terse in its errors to be the import path, see docs/dependencies.md) finds the same
    /// records — owner, type, TTL, and the addresses of A/AAAA.
    /// </summary>
    [Fact]
    public void A_dns_library_reads_the_export_as_the_same_records()
    {
        var text = AllTypesInZone;
        var parsed = Parse(text);
        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
        using var export = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(ZoneText.Render(parsed.Apex, parsed.Records)));
        var library = ARSoft.Tools.Net.Dns.Zone.ParseMasterFile(ARSoft.Tools.Net.DomainName.Parse("example.test"), export);

        static string Key(string owner, int type, int ttl) => $"{owner.TrimEnd('.').ToLowerInvariant()} {type} {ttl}";
        Assert.Equal(
            parsed.Records.Select(r => Key(r.Owner, r.Type, r.Ttl)).Order(StringComparer.Ordinal),
            library.Select(r => Key(r.Name.ToString(), (int)r.RecordType, r.TimeToLive)).Order(StringComparer.Ordinal));
        foreach (var a in library.OfType<ARSoft.Tools.Net.Dns.ARecord>())
        {
            Assert.Contains(parsed.Records, r => r.Type == RecordTypes.A && r.Data == a.Address.ToString());
        }

        var aaaa = Assert.Single(library.OfType<ARSoft.Tools.Net.Dns.AaaaRecord>());
        Assert.Equal(System.Net.IPAddress.Parse("2001:db8::1"), aaaa.Address);
    }

    [Fact]
    public void Pack_matches_render_and_unpacks()
    {
        var parsed = Parse(Head + "www A 192.0.2.80\n");
        var packed = ZoneText.Pack(parsed.Apex, parsed.Records);
        var text = ZoneText.Render(parsed.Apex, parsed.Records);
        Assert.Equal(text, ZoneText.Unpack(packed.Gzip));
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text), packed.Size);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))), packed.Sha256);
    }

    [Fact]
    public void Bad_rdata_names_line_type_owner_and_value()
    {
        var text = Head + string.Concat(Enumerable.Repeat("; filler\n", 6)) + "www A 300.1.1.1\n";
        Assert.Equal("line 12: A record 'www': '300.1.1.1' is not an IPv4 address", OneError(text));
    }

    [Theory]
    [InlineData("www AAAA 192.0.2.1", "line 6: AAAA record 'www': '192.0.2.1' is not an IPv6 address")]
    [InlineData("www MX 70000 mail", "line 6: MX record 'www': preference '70000' is not a number from 0 to 65535")]
    [InlineData("www MX 10", "line 6: MX record 'www': expects a preference and a mail exchanger name, got 1 fields")]
    [InlineData("_s._tcp SRV 1 2 port x", "line 6: SRV record '_s._tcp': port 'port' is not a number from 0 to 65535")]
    [InlineData("www DS 1 8 2 ABCD", "line 6: DS record 'www': digest type 2 needs 32 octets of data (64 hex digits), got 2")]
    [InlineData("www TLSA 3 1 1 XYZ", "line 6: TLSA record 'www': 'XYZ' is not hexadecimal")]
    [InlineData("www CAA 0 is-sue \"x\"", "line 6: CAA record 'www': tag 'is-sue' must be 1 to 15 letters or digits (issue, issuewild, iodef, ...)")]
    [InlineData("www TYPE65534 \\# 4 abcdef", "line 6: TYPE65534 record 'www': RFC 3597 length 4 does not match the 3 octets of data")]
    [InlineData("www HINFO \"pc\" \"linux\"", "line 6: record 'www': type 'HINFO' is not supported: use one of A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, DS, TLSA, CAA, or TYPEnnn with RFC 3597 data (\\# length hex)")]
    [InlineData("www CNAME a..b", "line 6: CNAME record 'www': target 'a..b' is not a domain name: empty label ('..' or a leading '.')")]
    [InlineData("www TXT \"open", "line 6: quoted string not closed on its line")]
    [InlineData("www CH A 192.0.2.1", "line 6: class 'CH' is not supported: only IN")]
    public void Bad_records_are_reported_on_their_line(string line, string expected) => Assert.Equal(expected, OneError(Head + line + "\n"));

    [Theory]
    [InlineData("www -5 A 192.0.2.1", "line 6: bad TTL '-5': a TTL cannot be negative")]
    [InlineData("www 2147483648 A 192.0.2.1", "line 6: bad TTL '2147483648': more than 2147483647")]
    [InlineData("www 99999999999999 A 192.0.2.1", "line 6: bad TTL '99999999999999': more than 2147483647")]
    [InlineData("www 5x A 192.0.2.1", "line 6: bad TTL '5x': not a number of seconds (or a duration such as 1h30m)")]
    public void Bad_ttls_are_refused(string line, string expected) => Assert.Equal(expected, OneError(Head + line + "\n"));

    [Fact]
    public void Accepts_ttl_limits_and_units()
    {
        var result = Parse(Head + "a 2147483647 A 192.0.2.1\nb 0 A 192.0.2.1\nc 1w2d3h4m5s A 192.0.2.1\n");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(2147483647, result.Records.Single(r => r.Owner == "a.example.test.").Ttl);
        Assert.Equal(0, result.Records.Single(r => r.Owner == "b.example.test.").Ttl);
        Assert.Equal(604800 + (2 * 86400) + (3 * 3600) + (4 * 60) + 5, result.Records.Single(r => r.Owner == "c.example.test.").Ttl);
    }

    [Fact]
    public void Cname_beside_other_data_is_refused_on_the_cname_line()
    {
        var error = OneError(Head + "www A 192.0.2.1\n; c\nwww CNAME other.test.\n");
        Assert.Equal("line 8: CNAME 'www' beside other data at the same owner (A on line 6)", error);
        Assert.Equal("line 7: more than one CNAME at 'www' (another on line 6)", OneError(Head + "www CNAME a.test.\nwww CNAME b.test.\n"));
        Assert.True(Parse(Head + "www CNAME a.test.\nwww CNAME a.test.\n").Ok); // the same record twice is one record
    }

    [Fact]
    public void Records_outside_the_zone_are_refused()
    {
        Assert.Equal("line 6: A record 'www.other.test.' is outside the zone example.test.", OneError(Head + "www.other.test. A 192.0.2.1\n"));
        Assert.Equal("line 7: A record 'www.elsewhere.' is outside the zone example.test.", OneError(Head + "$ORIGIN elsewhere.\nwww A 192.0.2.1\n"));
        Assert.Contains("outside the zone", OneError(Head + "www.notexample.test. A 192.0.2.1\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Soa_and_apex_ns_rules()
    {
        Assert.Equal(
            "line 1: no SOA record at the zone apex (example.test.)",
            OneError("$ORIGIN example.test.\n@ NS ns1\nns1 A 192.0.2.1\n"));
        Assert.Equal(
            "line 3: a second SOA record at the apex (the first is on line 2)",
            OneError("$ORIGIN example.test.\n@ SOA ns1 hm 1 2 3 4 5\n@ SOA ns1 hm 2 2 3 4 5\n@ NS ns1\n"));
        Assert.Equal(
            "line 2: no NS record at the zone apex (example.test.)",
            OneError("$ORIGIN example.test.\n@ SOA ns1 hm 1 2 3 4 5\nwww NS ns1\n"));
        Assert.Equal(
            "line 6: SOA record 'sub' is not at the zone apex (example.test.)",
            OneError(Head + "sub SOA ns1 hm 1 2 3 4 5\n"));
    }

    [Fact]
    public void Errors_are_in_line_order_and_capped_at_100()
    {
        var text = Head + string.Concat(Enumerable.Range(0, 300).Select(i => $"h{i} A 999.0.0.{i % 200}\n"));
        var result = Parse(text);
        Assert.Equal(100, result.Errors.Length);
        Assert.True(result.Truncated);
        Assert.Equal(Enumerable.Range(6, 100), result.Errors.Select(e => e.Line));
        Assert.All(result.Errors, e => Assert.Equal("zone_file", e.Field));
    }

    [Fact]
    public void Line_numbers_count_parenthesised_lines_and_blank_owner_repeats_the_previous()
    {
        var text = "$ORIGIN example.test.\n@ SOA ns1 hm (\n 1\n 2\n 3\n 4\n 5 )\n NS ns1\nwww A 192.0.2.1\n AAAA nope\n";
        Assert.Equal("line 10: AAAA record 'www': 'nope' is not an IPv6 address", OneError(text));
        var ok = Parse("$ORIGIN example.test.\n@ SOA ns1 hm (\n 1 2 3 4 5 )\n NS ns1\nwww A 192.0.2.1\n AAAA ::1\n");
        Assert.True(ok.Ok, string.Join("\n", ok.Errors));
        Assert.Equal(2, ok.Records.Count(r => r.Owner == "www.example.test."));
        Assert.Contains(ok.Records, r => r.Owner == "example.test." && r.Type == RecordTypes.Ns);
    }

    [Fact]
    public void Txt_escapes_round_trip()
    {
        var result = Parse(Head + "t TXT \"a \\\"quoted\\\" word\" \"semi;colon\" \"back\\\\slash\" \"\\233t\\195\\169\" \"héllo\"\n");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var txt = result.Records.Single(r => r.Type == RecordTypes.Txt).Data;
        Assert.Equal("\"a \\\"quoted\\\" word\" \"semi;colon\" \"back\\\\slash\" \"\\233t\\195\\169\" \"h\\195\\169llo\"", txt);
        var again = Parse(ZoneText.Render(result.Apex, result.Records));
        Assert.Equal(result.Records, again.Records);
    }

    [Fact]
    public void Single_record_input_errors_name_their_fields()
    {
        var (record, errors) = ZoneFileParser.ParseRecord(new ZoneRecordInput("www", "A", 300, "192.0.2.1"), "example.test", 3600);
        Assert.Empty(errors);
        Assert.Equal(new ZoneRecord("www.example.test.", RecordTypes.A, 300, "192.0.2.1"), record);

        (_, errors) = ZoneFileParser.ParseRecord(new ZoneRecordInput("www.other.", "BOGUS", -1, "x"), "example.test", 3600);
        Assert.Equal(["name", "type", "ttl"], errors.Select(e => e.Field));

        (_, errors) = ZoneFileParser.ParseRecord(new ZoneRecordInput("www", "A", null, "300.1.1.1"), "example.test", 3600);
        Assert.Equal("data", Assert.Single(errors).Field);
        Assert.Equal("A record 'www': '300.1.1.1' is not an IPv4 address", errors[0].Message);
    }

    [Fact]
    public void Record_ids_are_stable_and_the_soa_id_ignores_the_serial()
    {
        var a = new ZoneRecord("www.example.test.", RecordTypes.A, 300, "192.0.2.1");
        Assert.Equal(a.Id, (a with { Ttl = 60 }).Id);
        Assert.NotEqual(a.Id, (a with { Data = "192.0.2.2" }).Id);
        var soa = new ZoneRecord("example.test.", RecordTypes.Soa, 300, "ns1. hm. 1 2 3 4 5");
        Assert.Equal(soa.Id, (soa with { Data = "ns1. hm. 2 2 3 4 5" }).Id);
        Assert.Matches("^[0-9a-f]{16}$", a.Id);
    }

    [Theory]
    [InlineData(2u, 1u, true)]
    [InlineData(1u, 2u, false)]
    [InlineData(0u, 4294967295u, true)]
    [InlineData(2147483647u, 0u, true)]
    [InlineData(2147483648u, 0u, false)]
    [InlineData(5u, 5u, false)]
    public void Serial_arithmetic_follows_rfc1982(uint a, uint b, bool after) => Assert.Equal(after, ZoneSerial.IsAfter(a, b));

    [Fact]
    public void Serial_choice_keeps_a_higher_import_else_bumps()
    {
        Assert.Equal(2024020101u, ZoneSerial.Choose(2024010101, 2024020101));
        Assert.Equal(2024010102u, ZoneSerial.Choose(2024010101, 2024010101));
        Assert.Equal(2024010102u, ZoneSerial.Choose(2024010101, 5));
        Assert.Equal(0u, ZoneSerial.Choose(4294967295, null));
        Assert.Equal("a. b. 7 2 3 4 5", ZoneSerial.With("a. b. 1 2 3 4 5", 7));
    }

    [Fact]
    public void Canonical_order_sorts_owners_label_by_label_from_the_right()
    {
        var result = Parse(Head + "z A 192.0.2.9\na.z A 192.0.2.8\n*.a A 192.0.2.7\na A 192.0.2.6\nyljkjljk A 192.0.2.5\nZ.a A 192.0.2.4\n");
        Assert.True(result.Ok);
        Assert.Equal(
            ["example.test.", "a.example.test.", "*.a.example.test.", "z.a.example.test.", "ns1.example.test.", "yljkjljk.example.test.", "z.example.test.", "a.z.example.test."],
            result.Records.Select(r => r.Owner).Distinct());
    }

    [Fact]
    public void Knot_accepts_the_export_when_kzonecheck_is_installed()
    {
        if (!File.Exists("/usr/bin/kzonecheck"))
        {
            return;
        }

        var text = AllTypesInZone;
        var parsed = Parse(text);
        var path = Path.Combine(Path.GetTempPath(), $"ms-zone-{Guid.NewGuid():N}.zone");
        File.WriteAllText(path, ZoneText.Render(parsed.Apex, parsed.Records));
        try
        {
            using var process = Process.Start(new ProcessStartInfo("/usr/bin/kzonecheck", ["-o", "example.test", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, output);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
