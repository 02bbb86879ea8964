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
        Assert.Equal("0 ISSUE \"letsencrypt.org\"", Data("example.test.", RecordTypes.Caa)); // the tag as written: Knot keeps it
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
    [InlineData("www MX 10", "line 6: MX record 'www': expects a preference and a mail exchanger name, got 1 field")]
    [InlineData("_s._tcp SRV 1 2 port x", "line 6: SRV record '_s._tcp': port 'port' is not a number from 0 to 65535")]
    [InlineData("www DS 1 8 2 ABC", "line 6: DS record 'www': digest: 'ABC' has an odd number of hex digits (each field holds whole octets)")]
    [InlineData("www TLSA 3 1 1 XYZW", "line 6: TLSA record 'www': data: 'XYZW' is not hexadecimal")]
    [InlineData("www CAA 256 issue \"x\"", "line 6: CAA record 'www': flags '256' is not a number from 0 to 255")]
    [InlineData("www SSHFP 1 1", "line 6: SSHFP record 'www': expects algorithm, fingerprint type and fingerprint, got 2 fields")]
    [InlineData("www DNSKEY 256 3 8 AwE", "line 6: DNSKEY record 'www': key: 'AwE' is not base64 (whole groups of four characters, '=' only at a group's end)")]
    [InlineData("www RRSIG A 8 2 3600 20301301000000 20240101000000 1 example.test. AAAA", "line 6: RRSIG record 'www': expiration '20301301000000' is not a date (YYYYMMDDHHmmSS, years 1970 to 2225)")]
    [InlineData("www NSEC next.example.test. A FOO", "line 6: NSEC record 'www': 'FOO' in the type list is not a type Knot reads (a mnemonic or TYPEnnn)")]
    [InlineData("www LOC 91 0 0 N 0 0 0 E 0m", "line 6: LOC record 'www': expects degrees [minutes [seconds]] N|S degrees [minutes [seconds]] E|W altitude[m] [size[m] [horizontal precision[m] [vertical precision[m]]]], e.g. 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m")]
    [InlineData("www APL 1:192.0.2.0/33", "line 6: APL record 'www': item '1:192.0.2.0/33' is not [!]1:IPv4/prefix (prefix 0-32) or [!]2:IPv6/prefix (prefix 0-128)")]
    [InlineData("www EUI48 00-00-5e-00-53", "line 6: EUI48 record 'www': address '00-00-5e-00-53' is not 6 groups of 2 hex digits (xx-xx-xx-xx-xx-xx)")]
    [InlineData("www SVCB 1 . mandatory=port alpn=h2", "line 6: SVCB record 'www': mandatory names port, which is not given")]
    [InlineData("www HTTPS 1 . port=853 port=854", "line 6: HTTPS record 'www': parameter port is given twice")]
    [InlineData("www IPSECKEY 10 4 2 . AQNRU3mG", "line 6: IPSECKEY record 'www': gateway type '4' is not 0 (none), 1 (IPv4), 2 (IPv6) or 3 (a name)")]
    [InlineData("www TXT \"h\u00e9llo\"", "line 6: TXT record 'www': string \"h\u00e9llo\": '\u00e9' is not ASCII (Knot refuses it): write its UTF-8 octets as \\195\\169")]
    [InlineData("www A 01.2.3.4", "line 6: A record 'www': '01.2.3.4' is not an IPv4 address")]
    [InlineData("a+b A 192.0.2.1", "line 6: bad owner name 'a+b': '+' is not allowed in a name: use letters, digits, '-', '_', '*' and '/', or escape it (\\+)")]
    [InlineData("www TXT a\"b\"", "line 6: TXT record 'www': a quote right next to other text ('a\"b\"'): separate the fields with a blank, or quote the whole field")]
    [InlineData("odd A \\# 3 C00002", "line 6: A record 'odd': its RFC 3597 data (3 octets) is not a A record: Knot would load the zone but answer SERVFAIL for this name and fail every transfer of the zone")]
    [InlineData("www TYPE65534 \\# 4 abcdef", "line 6: TYPE65534 record 'www': RFC 3597 length 4 does not match the 3 octets of data")]
    [InlineData("www FOO 1", "line 6: record 'www': type 'FOO' is not a type Knot reads: use one of A, NS, CNAME, SOA, PTR, HINFO, MINFO, MX, TXT, RP, AFSDB, RT, KEY, AAAA, LOC, SRV, NAPTR, KX, CERT, DNAME, APL, DS, SSHFP, IPSECKEY, RRSIG, NSEC, DNSKEY, DHCID, NSEC3, NSEC3PARAM, TLSA, SMIMEA, CDS, CDNSKEY, OPENPGPKEY, CSYNC, ZONEMD, SPF, NID, L32, L64, LP, EUI48, EUI64, URI, CAA, SVCB, HTTPS, or TYPEnnn with RFC 3597 data (\\# length hex)")]
    [InlineData("www CNAME a..b", "line 6: CNAME record 'www': target 'a..b' is not a domain name: empty label ('..' or a leading '.')")]
    [InlineData("www TXT \"open", "line 6: quoted string not closed on its line")]
    [InlineData("www CH A 192.0.2.1", "line 6: class 'CH' is not supported: only IN")]
    public void Bad_records_are_reported_on_their_line(string line, string expected) => Assert.Equal(expected, OneError(Head + line + "\n"));

    [Theory]
    [InlineData("www -5 A 192.0.2.1", "line 6: bad TTL '-5': a TTL cannot be negative")]
    [InlineData("www 4294967296 A 192.0.2.1", "line 6: bad TTL '4294967296': more than 4294967295")]
    [InlineData("www 99999999999999 A 192.0.2.1", "line 6: bad TTL '99999999999999': more than 4294967295")]
    [InlineData("www 1h30 A 192.0.2.1", "line 6: bad TTL '1h30': every part after the first needs a unit (s, m, h, d, w): 1h30m, not 1h30")]
    [InlineData("www +5 A 192.0.2.1", "line 6: bad TTL '+5': not a number of seconds (or a duration such as 1h30m)")]
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
    public void Records_outside_the_zone_are_ignored_with_a_warning_as_knot_does()
    {
        var result = Parse(Head + "www.other.test. A 192.0.2.1\n$ORIGIN elsewhere.\nwww A 192.0.2.1\n");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.DoesNotContain(result.Records, r => r.Owner.EndsWith("other.test.", StringComparison.Ordinal) || r.Owner.EndsWith("elsewhere.", StringComparison.Ordinal));
        Assert.Equal(
            ["line 6: A record 'www.other.test.' is outside the zone example.test.: ignored (as Knot ignores out-of-zone data)",
             "line 8: A record 'www.elsewhere.' is outside the zone example.test.: ignored (as Knot ignores out-of-zone data)"],
            result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Soa_and_apex_ns_rules_follow_knot()
    {
        Assert.Equal(
            "line 1: no SOA record at the zone apex (example.test.)",
            OneError("$ORIGIN example.test.\n@ NS ns1\nns1 A 192.0.2.1\n"));

        // A second SOA: Knot keeps the first of the file and ignores the others.
        var two = Parse("$ORIGIN example.test.\n@ SOA ns1 hm 5 2 3 4 5\n@ SOA ns1 hm 2 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n");
        Assert.True(two.Ok);
        Assert.Equal("ns1.example.test. hm.example.test. 5 2 3 4 5", Assert.Single(two.Records, r => r.Type == RecordTypes.Soa).Data);
        Assert.Equal("line 3: a second SOA record at '@' (the first is on line 2): ignored, as Knot does", Assert.Single(two.Warnings).ToString());

        // No NS at the apex: knotd loads it and reports it.
        var noNs = Parse("$ORIGIN example.test.\n@ SOA ns1 hm 1 2 3 4 5\nwww NS ns1\n");
        Assert.True(noNs.Ok);
        Assert.Contains(noNs.Warnings, w => w.ToString() == "line 2: no NS record at the zone apex (example.test.): Knot loads the zone but reports it, and resolvers cannot be pointed at its servers");

        var below = Parse(Head + "sub SOA ns1 hm 1 2 3 4 5\n");
        Assert.True(below.Ok);
        Assert.Contains(below.Warnings, w => w.ToString() == "line 6: SOA record 'sub' is not at the zone apex (example.test.): ignored, as Knot ignores every SOA after the apex's");
    }

    [Fact]
    public void A_record_without_a_ttl_gets_the_ttl_directive_else_3600_as_in_knot()
    {
        // Not the last TTL seen (the parser did that before): Knot's scanner starts with 3600 and follows $TTL only.
        var result = Parse("$ORIGIN example.test.\n@ 300 SOA ns1 hm 1 2 3 4 5\n@ 600 NS ns1\nns1 A 192.0.2.1\n$TTL 120\nwww A 192.0.2.2\n");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(3600, result.Records.Single(r => r.Owner == "ns1.example.test.").Ttl);
        Assert.Equal(120, result.Records.Single(r => r.Owner == "www.example.test.").Ttl);
        Assert.Equal(300, result.Records.Single(r => r.Type == RecordTypes.Soa).Ttl);
    }

    [Fact]
    public void Ttls_that_differ_within_a_record_set_become_the_last_one_with_a_warning_as_in_knot()
    {
        var result = Parse(Head + "www 300 A 192.0.2.1\nwww 600 A 192.0.2.2\nwww 60 AAAA ::1\nwww 600 A 192.0.2.2\n");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.All(result.Records.Where(r => r.Owner == "www.example.test." && r.Type == RecordTypes.A), r => Assert.Equal(600, r.Ttl));
        Assert.Equal(60, result.Records.Single(r => r.Type == RecordTypes.Aaaa).Ttl);
        Assert.Equal(
            "line 6: A record set 'www': TTL 300 here, 600 on line 9: a record set has one TTL, Knot uses the last one (600); stored with 600",
            Assert.Single(result.Warnings).ToString());

        // RRSIGs keep their own TTLs (each covers another set), as Knot keeps them.
        var signed = Parse(Head + "www RRSIG A 8 2 300 20300101000000 20240101000000 1 example.test. AAAA\nwww 60 RRSIG NSEC 8 2 60 20300101000000 20240101000000 1 example.test. AAAA\n");
        Assert.True(signed.Ok);
        Assert.Equal([60, 3600], signed.Records.Where(r => r.Type == RecordTypes.Rrsig).Select(r => r.Ttl).Order());
        Assert.Empty(signed.Warnings);
    }

    [Fact]
    public void Ttls_over_2147483647_are_stored_as_0_with_a_warning()
    {
        var result = Parse(Head + "www 2147483648 A 192.0.2.2\n");
        Assert.True(result.Ok);
        Assert.Equal(0, result.Records.Single(r => r.Owner == "www.example.test.").Ttl);
        Assert.Equal("line 6: A record 'www': TTL 2147483648 is over 2147483647, which resolvers read as 0 (RFC 2181 §8): stored as 0", Assert.Single(result.Warnings).ToString());
    }

    [Fact]
    public void Dname_rules_are_checked_like_cname_rules()
    {
        Assert.Equal("line 7: 'x.d' is below the DNAME at 'd' (line 6): nothing can be below a DNAME (RFC 6672 §2.4)", OneError(Head + "d DNAME other.test.\nx.d A 192.0.2.2\n"));
        Assert.Equal("line 7: more than one DNAME at 'd' (another on line 6)", OneError(Head + "d DNAME a.test.\nd DNAME b.test.\n"));
        Assert.Equal("line 6: DNAME 'd' beside an NS record (line 7): a delegation cannot be a DNAME too (RFC 6672 §2.3)", OneError(Head + "d DNAME a.test.\nd NS ns.other.test.\n"));
        Assert.Equal("line 6: CNAME 'd' beside other data at the same owner (DNAME on line 7)", OneError(Head + "d CNAME a.test.\nd DNAME b.test.\n"));
        var ok = Parse(Head + "d DNAME other.test.\nd A 192.0.2.2\nde A 192.0.2.3\n");
        Assert.True(ok.Ok, string.Join("\n", ok.Errors));
    }

    [Fact]
    public void Missing_glue_is_a_warning()
    {
        var result = Parse(Head + "@ NS ns2\nsub NS ns.sub\nsub NS ns.other.test.\n");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(
            ["line 6: NS record '@': its name server ns2.example.test. is inside the zone but has no A or AAAA record (missing glue): Knot loads the zone, its optional checks (kzonecheck) report it",
             "line 7: NS record 'sub': its name server ns.sub.example.test. is inside the zone but has no A or AAAA record (missing glue): Knot loads the zone, its optional checks (kzonecheck) report it"],
            result.Warnings.Select(w => w.ToString()));
    }

    [Theory]
    [InlineData("www MX \\# 16 000A046D61696C076578616D706C6500", "10 mail.example.")]
    [InlineData("www NS \\# 5 036E733200", "ns2.")]
    [InlineData("www CNAME \\# 7 054F5448455200", "other.")]
    [InlineData("www TXT \\# 6 0568656C6C6F", "\"hello\"")]
    [InlineData("www AAAA \\# 16 20010DB8000000000000000000000001", "2001:db8::1")]
    [InlineData("www SRV \\# 7 000A00141F9000", "10 20 8080 .")]
    [InlineData("www DS \\# 6 30390D02ABCD", "12345 13 2 ABCD")]
    [InlineData("www TYPE65534 \\# 3 abcdef", "\\# 3 ABCDEF")]
    public void Rfc3597_data_is_read_for_every_type_and_stored_in_the_types_own_form(string line, string data)
    {
        var result = Parse(Head + line + "\n");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(data, result.Records.Single(r => r.Owner == "www.example.test.").Data);
    }

    [Fact]
    public void The_root_zone_and_classless_reverse_zones_parse()
    {
        var root = ZoneFileParser.Parse("$ORIGIN .\n. SOA a.root-servers.net. hm.example. 1 2 3 4 5\n. NS a.root-servers.net.\ncom. NS a.gtld-servers.net.\na.gtld-servers.net. A 192.5.6.30\na.root-servers.net. A 198.41.0.4\n", ".");
        Assert.True(root.Ok, string.Join("\n", root.Errors));
        Assert.Equal(".", root.Apex);
        Assert.Equal(".", root.Records[0].Owner);
        Assert.Equal(root.Records, ZoneFileParser.Parse(ZoneText.Render(root.Apex, root.Records), ".").Records);

        var classless = ZoneFileParser.Parse("$ORIGIN 0/25.2.0.192.in-addr.arpa.\n@ SOA ns1.example. hm.example. 1 2 3 4 5\n@ NS ns1.example.\n1 PTR host.example.\n", "0/25.2.0.192.in-addr.arpa");
        Assert.True(classless.Ok, string.Join("\n", classless.Errors));
        Assert.Contains(classless.Records, r => r.Owner == "1.0/25.2.0.192.in-addr.arpa." && r.Data == "host.example.");
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
        var result = Parse(Head + "t TXT \"a \\\"quoted\\\" word\" \"semi;colon\" \"back\\\\slash\" \"\\233t\\195\\169\" h\\195\\169llo\n");
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
