using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Dhcp;

/// <summary>
/// The standard option names of Kea's <c>dhcp4</c> and <c>dhcp6</c> spaces (from Kea's table of standard option
/// definitions), with the value type of those whose values the review checks: addresses, integers, booleans. A name
/// outside these lists and not defined by the configuration's <c>option-def</c> is a warning, not an error (a newer Kea
/// may know it; its <c>config-test</c> decides at push time); a checked value that does not parse is an error.
/// </summary>
public static class DhcpOptionNames
{
    /// <summary>A value type the review checks: each comma-separated item must parse as it.</summary>
    public enum ValueType
    {
        None,
        Ipv4,
        Ipv6,
        Uint8,
        Uint16,
        Uint32,
        Int32,
        Boolean,
    }

    private static readonly Dictionary<string, ValueType> V4 = Table(
        "subnet-mask:ipv4 time-offset:int32 routers:ipv4 time-servers:ipv4 name-servers:ipv4 domain-name-servers:ipv4 log-servers:ipv4 cookie-servers:ipv4 "
        + "lpr-servers:ipv4 impress-servers:ipv4 resource-location-servers:ipv4 host-name boot-size:uint16 merit-dump domain-name swap-server:ipv4 root-path "
        + "extensions-path ip-forwarding:bool non-local-source-routing:bool policy-filter:ipv4 max-dgram-reassembly:uint16 default-ip-ttl:uint8 "
        + "path-mtu-aging-timeout:uint32 path-mtu-plateau-table:uint16 interface-mtu:uint16 all-subnets-local:bool broadcast-address:ipv4 "
        + "perform-mask-discovery:bool mask-supplier:bool router-discovery:bool router-solicitation-address:ipv4 static-routes:ipv4 trailer-encapsulation:bool "
        + "arp-cache-timeout:uint32 ieee802-3-encapsulation:bool default-tcp-ttl:uint8 tcp-keepalive-interval:uint32 tcp-keepalive-garbage:bool nis-domain "
        + "nis-servers:ipv4 ntp-servers:ipv4 vendor-encapsulated-options netbios-name-servers:ipv4 netbios-dd-server:ipv4 netbios-node-type:uint8 netbios-scope "
        + "font-servers:ipv4 x-display-manager:ipv4 dhcp-requested-address:ipv4 dhcp-lease-time:uint32 dhcp-option-overload:uint8 dhcp-message-type:uint8 "
        + "dhcp-server-identifier:ipv4 dhcp-parameter-request-list:uint8 dhcp-message dhcp-max-message-size:uint16 dhcp-renewal-time:uint32 "
        + "dhcp-rebinding-time:uint32 vendor-class-identifier dhcp-client-identifier nwip-domain-name nwip-suboptions nisplus-domain-name nisplus-servers:ipv4 "
        + "tftp-server-name boot-file-name mobile-ip-home-agent:ipv4 smtp-server:ipv4 pop-server:ipv4 nntp-server:ipv4 www-server:ipv4 finger-server:ipv4 "
        + "irc-server:ipv4 streettalk-server:ipv4 streettalk-directory-assistance-server:ipv4 user-class slp-directory-agent slp-service-scope fqdn "
        + "dhcp-agent-options nds-servers:ipv4 nds-tree-name nds-context bcms-controller-names bcms-controller-address:ipv4 authenticate "
        + "client-last-transaction-time:uint32 associated-ip:ipv4 client-system:uint16 client-ndi uuid-guid uap-servers geoconf-civic pcode tcode "
        + "v6-only-preferred:uint32 netinfo-server-address:ipv4 netinfo-server-tag default-url auto-config:uint8 name-service-search:uint16 "
        + "subnet-selection:ipv4 domain-search vivco-suboptions vivso-suboptions pana-agent:ipv4 v4-lost capwap-ac-v4:ipv4 sip-ua-cs-domains rdnss-selection "
        + "v4-sztp-redirect v4-portparams v4-captive-portal option-6rd v4-access-domain v4-dnr");

    private static readonly Dictionary<string, ValueType> V6 = Table(
        "clientid serverid ia-na ia-ta iaaddr oro:uint16 preference:uint8 elapsed-time:uint16 relay-msg auth unicast:ipv6 status-code rapid-commit user-class "
        + "vendor-class vendor-opts interface-id reconf-msg:uint8 reconf-accept sip-server-dns sip-server-addr:ipv6 dns-servers:ipv6 domain-search ia-pd "
        + "iaprefix nis-servers:ipv6 nisp-servers:ipv6 nis-domain-name nisp-domain-name sntp-servers:ipv6 information-refresh-time:uint32 bcmcs-server-dns "
        + "bcmcs-server-addr:ipv6 geoconf-civic remote-id subscriber-id client-fqdn pana-agent:ipv6 new-posix-timezone new-tzdb-timezone ero:uint16 lq-query "
        + "client-data clt-time:uint32 lq-relay-data lq-client-link:ipv6 v6-lost capwap-ac-v6:ipv6 relay-id ntp-server v6-access-domain sip-ua-cs-list "
        + "bootfile-url bootfile-param client-arch-type:uint16 nii aftr-name erp-local-domain-name rsoo pd-exclude rdnss-selection client-linklayer-addr "
        + "link-address:ipv6 solmax-rt:uint32 inf-max-rt:uint32 dhcpv4-message dhcp4o6-server-addr:ipv6 s46-rule s46-br:ipv6 s46-dmr s46-v4v6bind "
        + "s46-portparams s46-cont-mape s46-cont-mapt s46-cont-lw v6-captive-portal ipv6-address-andsf:ipv6 public-key certificate signature timestamp "
        + "v6-sztp-redirect v6-dnr 4o6-interface 4o6-source-address:ipv6");

    /// <summary>Whether <paramref name="name"/> is a standard option of <paramref name="family"/>'s space, and the type the review checks.</summary>
    public static bool TryGet(DhcpFamily family, string name, out ValueType type) => (family == DhcpFamily.V4 ? V4 : V6).TryGetValue(name, out type);

    /// <summary>Why <paramref name="data"/> is not a value of <paramref name="type"/> (comma-separated items), or null when it is.</summary>
    public static string? Problem(ValueType type, string data)
    {
        if (type == ValueType.None || string.IsNullOrWhiteSpace(data))
        {
            return null;
        }

        foreach (var raw in data.Split(','))
        {
            var item = raw.Trim();
            var ok = type switch
            {
                ValueType.Ipv4 => IPAddress.TryParse(item, out var a) && a.AddressFamily == AddressFamily.InterNetwork && item.Count(c => c == '.') == 3,
                ValueType.Ipv6 => IPAddress.TryParse(item, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6,
                ValueType.Uint8 => Integer(item, 0, byte.MaxValue),
                ValueType.Uint16 => Integer(item, 0, ushort.MaxValue),
                ValueType.Uint32 => Integer(item, 0, uint.MaxValue),
                ValueType.Int32 => Integer(item, int.MinValue, int.MaxValue),
                ValueType.Boolean => item is "true" or "false" or "0" or "1",
                _ => true,
            };
            if (!ok)
            {
                return $"'{item}' is not {Describe(type)}";
            }
        }

        return null;
    }

    private static bool Integer(string text, long min, long max) =>
        (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        && value >= min && value <= max;

    private static string Describe(ValueType type) => type switch
    {
        ValueType.Ipv4 => "an IPv4 address",
        ValueType.Ipv6 => "an IPv6 address",
        ValueType.Uint8 => "a number from 0 to 255",
        ValueType.Uint16 => "a number from 0 to 65535",
        ValueType.Uint32 => "a number from 0 to 4294967295",
        ValueType.Int32 => "a 32-bit number",
        _ => "true or false",
    };

    private static Dictionary<string, ValueType> Table(string entries) =>
        entries.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split(':')).ToDictionary(
            e => e[0],
            e => e.Length == 1 ? ValueType.None : e[1] switch
            {
                "ipv4" => ValueType.Ipv4,
                "ipv6" => ValueType.Ipv6,
                "uint8" => ValueType.Uint8,
                "uint16" => ValueType.Uint16,
                "uint32" => ValueType.Uint32,
                "int32" => ValueType.Int32,
                _ => ValueType.Boolean,
            },
            StringComparer.Ordinal);
}
