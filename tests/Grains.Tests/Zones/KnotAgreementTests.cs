using ManagedServers.Grains.Zones;
using Xunit.Abstractions;

namespace ManagedServers.Grains.Tests.Zones;

/// <summary>
/// Our import's verdict against the real Knot on this machine: for every case, the parser accepts exactly what knotd
/// loads (<c>knotc zone-check</c>, the rule knotd applies when it loads a zone) and refuses what it refuses. The cases are
/// one or a few lines after a small valid zone, covering every type Knot reads in valid and invalid forms, the
/// lexical edges (names, strings, TTLs, classes, RFC 3597) and the rules that span records.
/// </summary>
public sealed class KnotAgreementTests(ITestOutputHelper output)
{
    private const string Head = "$ORIGIN {0}.\n$TTL 3600\n@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n";

    /// <summary>Lines after <see cref="Head"/>; each case is one zone.</summary>
    public static readonly string[] Cases =
    [
        // Names and owners.
        "www A 192.0.2.2", "WWW.Sub A 192.0.2.2", "* A 192.0.2.2", "*.w A 192.0.2.2", "a*b A 192.0.2.2", "_x._tcp A 192.0.2.2",
        "a/b A 192.0.2.2", "a+b A 192.0.2.2", "a\\+b A 192.0.2.2", "a\\.b A 192.0.2.2", "a\\065 A 192.0.2.2", "a\\999 A 192.0.2.2",
        "a\\06 A 192.0.2.2", "a..b A 192.0.2.2", ".a A 192.0.2.2", "a@b A 192.0.2.2", "@ A 192.0.2.2", "a=b A 192.0.2.2",
        "é A 192.0.2.2", "\"www\" A 192.0.2.2", new string('a', 63) + " A 192.0.2.2", new string('a', 64) + " A 192.0.2.2",
        string.Join('.', Enumerable.Repeat(new string('a', 60), 4)) + " A 192.0.2.2", "www.other.test. A 192.0.2.2",
        " A 192.0.2.9", "$ORIGIN elsewhere.\nwww A 192.0.2.2", "$ORIGIN sub.{0}.\nwww A 192.0.2.2", "$ORIGIN relative\nwww A 192.0.2.2",
        "$INCLUDE other.zone", "$FOO bar", "$TTL 1h\nwww A 192.0.2.2", "$TTL -1\nwww A 192.0.2.2", "$TTL 4294967295\nwww A 192.0.2.2",

        // TTLs and classes.
        "www 300 A 192.0.2.2", "www IN 300 A 192.0.2.2", "www 300 IN A 192.0.2.2", "www in a 192.0.2.2", "www 1h30m A 192.0.2.2",
        "www 1H30M A 192.0.2.2", "www 1h30 A 192.0.2.2", "www +5 A 192.0.2.2", "www -5 A 192.0.2.2", "www 0 A 192.0.2.2",
        "www 2147483648 A 192.0.2.2", "www 4294967295 A 192.0.2.2", "www 4294967296 A 192.0.2.2", "www 1w2d3h4m5s A 192.0.2.2",
        "www 5x A 192.0.2.2", "www CH A 192.0.2.2", "www CLASS1 A 192.0.2.2", "www IN IN A 192.0.2.2", "www 300 300 A 192.0.2.2",
        "www 300 A 192.0.2.2\nwww 600 A 192.0.2.3", "www A 192.0.2.2\nwww A 192.0.2.2",

        // Types by name and number.
        "www FOO 1", "www TYPE1 192.0.2.2", "www TYPE65534 \\# 3 abcdef", "www TYPE65534 abc", "www TYPE65536 \\# 0",
        "www TYPE65534 \\# 0", "www TYPE65534 \\# 00", "www TYPE65534 \\# 2 abcdef", "www TYPE65534 \\# 3 abc def",
        "www TYPE65534 \\# 3 ab cd ef", "www NULL \\# 1 00", "www TYPE10 \\# 1 00", "www TYPE252 \\# 0", "www TYPE41 \\# 0",

        // RFC 3597 for known types.
        "www A \\# 4 C0000202", "www A \\# 0", "www MX \\# 6 000a026d7800", "www DS \\# 4 00010802", "www LOC \\# 16 00000000800000008000000000989680",
        "www TXT \\# 4 03616263", "www TXT \\# 0", "www APL \\# 0", "www APL", "www NS \\# 5 036e733200",

        // A, AAAA.
        "www A 01.2.3.4", "www A 1.2.3", "www A 1.2.3.4.", "www A 256.1.1.1", "www A 1.2.3.4 5", "www A \"1.2.3.4\"",
        "www AAAA ::1", "www AAAA 2001:DB8::1", "www AAAA ::ffff:192.0.2.1", "www AAAA ::ffff:01.2.3.4", "www AAAA 1::2::3",
        "www AAAA 12345::1", "www AAAA [::1]", "www AAAA fe80::1%eth0", "www AAAA 1:2:3:4:5:6:7:8", "www AAAA 1:2:3:4:5:6:7:8:9",
        "www AAAA 1:2:3:4:5:6:7::", "www AAAA :1::", "www AAAA 192.0.2.1",

        // Names in data.
        "www CNAME other.test.", "www CNAME Other", "www CNAME a..b", "www CNAME \"x\"", "www CNAME @", "www PTR x\\032y",
        "www NS ns2.other.test.", "www DNAME other.test.", "www MX 10 mail", "www MX 70000 mail", "www MX 10", "www MX -1 mail",
        "www MINFO a b", "www RP mbox.test. txt.test.", "www AFSDB 1 afs.test.", "www RT 10 relay", "www KX 10 kx", "www LP 10 L64-Subnet",

        // SOA.
        "sub SOA ns1 hm 1 2 3 4 5", "@ SOA ns1 hm 2 2 3 4 5", "@ SOA ns1 hm 2024010101 1h 1h 1w 1d", "@ SOA ns1 hm 4294967296 1 2 3 4",
        "@ SOA ns1 hm 1h 1 2 3 4",

        // Strings.
        "www TXT \"hello world\"", "www TXT hello world", "www TXT \"a;b\" c\\;d", "www TXT \"héllo\"", "www TXT h\\195\\169llo",
        "www TXT \"\\256\"", "www TXT \"\\25\"", "www TXT \"a\\\"b\"", "www TXT \"\"", "www TXT \"" + new string('x', 300) + "\"",
        "www TXT (\"first\"\n \"second\" )", "www TXT (\"one\n two\")", "www TXT \"open", "www TXT a\"b\"", "www TXT \"a\"b",
        "www TXT \"tab\there\"", "www SPF \"v=spf1 -all\"", "www HINFO PC Linux", "www HINFO \"PC\"", "www HINFO a b c",
        "www NAPTR 100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.test!\" .", "www NAPTR 100 10 U E2U+sip regexp replacement",
        "www NAPTR 100 10 \"U\" \"E2U+sip\" \"\"", "www URI 10 1 \"https://example.test/\"", "www URI 10 1 https://example.test/",
        "www URI 10 1 \"\"", "www URI 10 \"x\"",
        "www CAA 0 issue \"ca.test\"", "www CAA 0 ISSUE \"ca.test\"", "www CAA 128 iodef \"mailto:x@test\"", "www CAA 0 is-sue \"x\"",
        "www CAA 0 \"\" \"x\"", "www CAA 256 issue \"x\"", "www CAA 0 issue x",

        // DNSSEC and hashes.
        "www DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE16E43C5DC3A2C4E2AF67F1E1", "www DS 1 RSASHA256 2 ABCD",
        "www DS 1 8 2 ABC", "www DS 1 8 2 AB CD", "www DS 1 8 2 XYZW", "www DS 1 BOGUS 2 ABCD", "www DS 1 8 2", "www CDS 0 0 0 00",
        "www DNSKEY 256 3 8 AwEAAb==", "www DNSKEY 256 3 ECDSAP256SHA256 AwEAAc0=", "www DNSKEY 256 3 8 AwE", "www DNSKEY 256 3 8 AwEA AQAB",
        "www DNSKEY 256 3 8 AB==CD==", "www DNSKEY 256 3 8", "www CDNSKEY 0 3 0 AA==", "www KEY 256 3 8 AwEAAQ==",
        "www RRSIG A 8 2 3600 20300101000000 20240101000000 12345 {0}. c2lnbmF0dXJl",
        "www RRSIG A 8 2 3600 1893456000 1704067200 12345 {0}. c2lnbmF0dXJl",
        "www RRSIG A 8 2 3600 20301301000000 20240101000000 12345 {0}. c2lnbmF0dXJl",
        "www RRSIG A 8 2 3600 20300229000000 20240101000000 12345 {0}. c2lnbmF0dXJl",
        "www RRSIG A 8 2 3600 22250101000000 20240101000000 12345 {0}. c2lnbmF0dXJl",
        "www RRSIG A 8 2 3600 203001010000 20240101000000 12345 {0}. c2lnbmF0dXJl",
        "www RRSIG FOO 8 2 3600 20300101000000 20240101000000 12345 {0}. c2lnbmF0dXJl",
        "www RRSIG TYPE65000 8 2 1h 20300101000000 20240101000000 12345 {0}. c2lnbmF0dXJl",
        "www NSEC next.{0}. A RRSIG NSEC", "www NSEC Next.{0}. A TYPE65000", "www NSEC next.{0}.", "www NSEC next.{0}. FOO",
        "1AB0CD NSEC3 1 0 10 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG", "x NSEC3 1 1 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR",
        "x NSEC3 1 0 0 - 2T7B4G4V", "x NSEC3 1 0 0 - 2T7B4G4", "x NSEC3 1 0 0 - 2T7B4G4W", "x NSEC3 1 0 0 - CO======",
        "x NSEC3 1 0 0 ABC 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR", "@ NSEC3PARAM 1 0 10 AABBCCDD", "@ NSEC3PARAM 1 0 0 -", "@ NSEC3PARAM 1 0 0",
        "www SSHFP 1 1 123456789ABCDEF67890123456789ABCDEF67890", "www SSHFP 1 1", "www SSHFP 256 1 AB",
        "_443._tcp TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6", "_443._tcp TLSA 3 1 1 ABCD",
        "_443._tcp SMIMEA 3 1 0 ABCD", "www OPENPGPKEY AAECAw==", "www DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
        "www DHCID AAE", "@ ZONEMD 2024010101 1 1 " + new string('A', 96), "@ CSYNC 2024010101 3 A NS AAAA", "@ CSYNC 1 3",
        "www CERT PGP 0 0 AAECAw==", "www CERT 1 12345 RSASHA256 AAECAw==", "www CERT FOO 0 0 AAECAw==", "www CERT 65536 0 0 AAECAw==",
        "www IPSECKEY 10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==", "www IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG",
        "www IPSECKEY 10 2 2 2001:db8::1 AQNRU3mG", "www IPSECKEY 10 3 2 Gateway.test. AQNRU3mG", "www IPSECKEY 10 3 0 gw.test.",
        "www IPSECKEY 10 3 0 gw.test. AQNRU3mG", "www IPSECKEY 10 1 2 192.0.2.38", "www IPSECKEY 10 4 2 . AQNRU3mG", "www IPSECKEY 10 00 0 .",

        // LOC, APL, EUI, ILNP.
        "www LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m", "www LOC 52 N 4 E 0m", "www LOC 52 22 N 4 53 E 10",
        "www LOC 91 0 0 N 0 0 0 E 0m", "www LOC 52 60 0 N 4 0 0 E 0m", "www LOC 52 0 0 X 4 0 0 E 0m", "www LOC 52 0 0 N 4 0 0 E",
        "www LOC 52 0 0.1234 N 4 0 0 E 0m", "www LOC 52 0 0 n 4 0 0 E 0m", "www LOC 90 59 59.999 S 180 59 59.999 W -100000m 90000000m 90000000m 90000000m",
        "www LOC 0 0 0 N 0 0 0 E 42849672.96m", "www LOC 0 0 0 N 0 0 0 E 1.5m 1.5m", "www LOC 0 0 0 N 0 0 0 E 0m 0 0 0 0",
        "www APL 1:192.0.2.0/24 !2:2001:db8::/32", "www APL 1:192.0.2.0/33", "www APL 3:1.2.3.4/8", "www APL 1:192.0.2.0", "www APL 1:0.0.0.0/0",
        "www EUI48 00-00-5e-00-53-2a", "www EUI48 00-00-5e-00-53", "www EUI48 00:00:5e:00:53:2a", "www EUI64 00-00-5e-ef-10-00-00-2a",
        "www EUI64 00-00-5e-ef-10-00-00", "www NID 10 0014:4fff:ff20:ee64", "www NID 10 14:4fff:ff20:ee64", "www L64 10 2001:0db8:1140:1000",
        "www L32 10 10.1.2.0", "www L32 10 10.1.2",

        // SVCB and HTTPS.
        "www HTTPS 1 . alpn=h2,h3 port=443", "www HTTPS 1 . alpn=\"h2,h3\" ipv4hint=192.0.2.1,192.0.2.2", "www HTTPS 0 svc.test.",
        "www HTTPS 0 svc.test. alpn=h2", "www SVCB 1 Svc.test. mandatory=alpn,port alpn=h2 port=853", "www SVCB 1 . mandatory=port alpn=h2",
        "www SVCB 1 . port=853 port=854", "www SVCB 1 . key65000=\"hello\" key65001", "www SVCB 1 . no-default-alpn alpn=h2",
        "www SVCB 1 . no-default-alpn=x", "www SVCB 1 . ech=AAECAw==", "www SVCB 1 . ipv6hint=2001:db8::1,::1", "www SVCB 1 . port=70000",
        "www SVCB 1 . unknown=1", "www SVCB 1 . alpn=", "www SVCB 1 . alpn=h2,,h3", "www SVCB 1 . key1=h2", "www SVCB 1 . mandatory=mandatory",
        "www SVCB 1 . mandatory=alpn,alpn alpn=h2", "www SVCB 1 . port=\"853\"", "www SVCB 1 . ipv4hint=1.2.3",

        // Rules that span records.
        "www A 192.0.2.2\nwww CNAME other.test.", "www CNAME a.test.\nwww CNAME b.test.", "www CNAME a.test.\nwww CNAME a.test.",
        "www CNAME a.test.\nwww RRSIG CNAME 8 2 3600 20300101000000 20240101000000 1 {0}. c2lnbmF0dXJl\nwww NSEC z.{0}. CNAME RRSIG NSEC",
        "d DNAME other.test.\nx.d A 192.0.2.2", "d DNAME other.test.\nd DNAME else.test.", "d DNAME other.test.\nd NS ns.other.test.",
        "d DNAME other.test.\nd A 192.0.2.2", "d DNAME other.test.\nd CNAME x.test.", "@ DNAME other.test.", "d DNAME other.test.\ne.d.{0}. TXT x",
        "sub NS ns.sub\nns.sub A 192.0.2.5", "sub NS ns.sub", "sub NS ns.other.test.", "@ NS ns2", "sub NS ns\nns A 192.0.2.7",
        "sub NS ns.deep.sub\n*.sub A 192.0.2.8", "www DS 1 8 1 ABCD", "www DS 1 8 3 ABCD",
        "@ SOA ns1 hm 2 2 3 4 5\nsub SOA ns1 hm 1 2 3 4 5",

        // Entry edges.
        "www TXT a(b", "www TXT a)b", "www TXT \"a\" \"b\"c", "www NSEC next", "www 1W A 192.0.2.2", "www 1s1s A 192.0.2.2", "www 0h A 192.0.2.2",
        "www A 192.0.2.2 ; comment", "www ( A 192.0.2.2 )", "( www A 192.0.2.2 )", "www A ( 192.0.2.2", "www TXT \"x\" ; ( \"y\"",
        "www SVCB 1 . alpn=\"h2, h3\"", "www SVCB 1 . key65000=\"\"", "www SVCB 1 . key65000=", "www SVCB 1 . alpn=h2 , port=1",
        "www SVCB 1 . ALPN=h2", "www SVCB 1 . key001=x", "$ORIGIN Sub.{0}.\nwww NSEC next A\nwww2 LP 10 x",
    ];

    /// <summary>Zones without an SOA, or with odd heads: whole files.</summary>
    public static readonly string[] Files =
    [
        "$ORIGIN {0}.\n@ NS ns1\nns1 A 192.0.2.1\n",
        "$ORIGIN {0}.\n@ SOA ns1 hm 1 2 3 4 5\n",
        "$ORIGIN {0}.\n@ SOA ns1 hm 1 2 3 4 5\nwww NS ns1\n",
        "$ORIGIN {0}.\n@ SOA ns1 hm ( 1\n 2 3\n 4 5 )\n NS ns1\nns1 A 192.0.2.1\n",
        "$ORIGIN {0}.\n@ SOA ns1 hm ( 1 2 3 4 5\n",
        "$ORIGIN {0}.\n@ SOA ns1 hm 1 2 3 4 5 )\n",
        " A 192.0.2.1\n$ORIGIN {0}.\n@ SOA ns1 hm 1 2 3 4 5\n@ NS ns1\n",
        "$ORIGIN {0}.\n@ 3600 SOA ns1 hm 1 2 3 4 5\n@ NS ns1\nwww A 192.0.2.1\nw2 7200 A 192.0.2.2\nw3 A 192.0.2.3\n",
    ];

    [Fact]
    public void Our_verdict_is_knots_for_every_case()
    {
        var zones = new List<(string Zone, string Text)>();
        for (var i = 0; i < Cases.Length; i++)
        {
            var zone = $"c{i}.test";
            zones.Add((zone, Head.Replace("{0}", zone, StringComparison.Ordinal) + Cases[i].Replace("{0}", zone, StringComparison.Ordinal) + "\n"));
        }

        for (var i = 0; i < Files.Length; i++)
        {
            var zone = $"f{i}.test";
            zones.Add((zone, Files[i].Replace("{0}", zone, StringComparison.Ordinal)));
        }

        var knot = Knot.ZoneCheck(zones);
        var mismatches = new List<string>();
        var accepted = 0;
        foreach (var (zone, text) in zones)
        {
            var ours = ZoneFileParser.Parse(text, zone);
            var (loads, messages) = knot[zone];
            accepted += ours.Ok ? 1 : 0;
            if (ours.Ok != loads)
            {
                mismatches.Add($"{zone}: knotd {(loads ? "loads" : "refuses")}, we {(ours.Ok ? "accept" : "refuse")}\n  case: {(text.StartsWith(Head.Replace("{0}", zone, StringComparison.Ordinal), StringComparison.Ordinal) ? text[Head.Replace("{0}", zone, StringComparison.Ordinal).Length..] : text).Replace("\n", "\\n", StringComparison.Ordinal)}\n  ours: {string.Join("; ", ours.Errors)}\n  knot: {messages}");
                continue;
            }

            if (ours.Ok)
            {
                // What we store reads back the same, and Knot loads it too.
                var export = ZoneText.Render(ours.Apex, ours.Records);
                var again = ZoneFileParser.Parse(export, zone);
                if (!again.Ok || !again.Records.SequenceEqual(ours.Records))
                {
                    mismatches.Add($"{zone}: the export does not read back the same: {string.Join("; ", again.Errors)}\n{export}");
                }
            }
        }

        output.WriteLine($"{zones.Count} cases, {accepted} accepted by both, {zones.Count - accepted - mismatches.Count} refused by both");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    /// <summary>
    /// Where we refuse what knotd loads, on purpose: RFC 3597 data that does not fit its type's layout (an A of three
    /// octets, a CNAME whose name runs off the end). knotd loads such a zone, then answers SERVFAIL for the name and
    /// fails every transfer of the zone.
    /// </summary>
    [Theory]
    [InlineData("odd A \\# 3 C00002")]
    [InlineData("odd CNAME \\# 3 030102")]
    public async Task Rfc3597_data_that_does_not_fit_its_type_is_refused_because_knot_cannot_serve_it(string line)
    {
        const string zone = "layout.test";
        var text = Head.Replace("{0}", zone, StringComparison.Ordinal) + line + "\n";
        var ours = ZoneFileParser.Parse(text, zone);
        var error = Assert.Single(ours.Errors);
        Assert.Equal(6, error.Line);
        Assert.Contains("'odd': its RFC 3597 data (3 octets) is not a", error.Message, StringComparison.Ordinal);
        Assert.True(Knot.ZoneCheck([(zone, text)])[zone].Loads);
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => Knot.AxfrAsync(zone, text));
        Assert.Contains("SERVFAIL", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Where we accept what Knot refuses, on purpose: CR (Windows) line ends. Knot refuses the file as it is; we
    /// read CR as a blank, warn, and store plain LF text, which Knot loads.
    /// </summary>
    [Fact]
    public void Crlf_files_are_accepted_with_a_warning_and_stored_as_knot_loads_them()
    {
        const string zone = "crlf.test";
        var text = Head.Replace("{0}", zone, StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal) + "www A 192.0.2.2\r\n";
        var ours = ZoneFileParser.Parse(text, zone);
        Assert.True(ours.Ok, string.Join("; ", ours.Errors));
        Assert.Contains(ours.Warnings, w => w.Line == 1 && w.Message.Contains("CR (Windows) line ends", StringComparison.Ordinal));
        var knot = Knot.ZoneCheck([(zone, text), ("export." + zone, ZoneText.Render(ours.Apex, ours.Records).Replace(zone, "export." + zone, StringComparison.Ordinal))]);
        Assert.False(knot[zone].Loads);
        Assert.True(knot["export." + zone].Loads, knot["export." + zone].Messages);
    }
}
