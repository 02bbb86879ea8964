namespace ManagedServers.Contracts.Api;

/// <summary>
/// A zone name as one URL path segment (<c>/api/v1/zones/{zone}</c>, <c>/api/v1/agent/zones/{zone}/file</c>). The '/' of an
/// RFC 2317 classless reverse zone is written <c>%2F</c> (<c>0%2F25.2.0.192.in-addr.arpa</c>); the root zone is written
/// <c>@</c> (as a zone file writes its own origin), because a segment "." (or <c>%2E</c>) is a dot segment that
/// clients and servers remove before routing. The server decodes every escape but <c>%2F</c>, which <see cref="Name"/>
/// decodes.
/// </summary>
public static class ZoneUrl
{
    /// <summary>The segment for a zone name, with or without its final dot ("." or "@" for the root zone).</summary>
    public static string Segment(string zone) =>
        zone is "." or "@" ? "@" : Uri.EscapeDataString(zone.TrimEnd('.'));

    /// <summary>The zone name a route value stands for: "@" is the root zone, <c>%2F</c> (either case) is '/'.</summary>
    public static string Name(string segment) =>
        segment == "@" ? "." : segment.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
