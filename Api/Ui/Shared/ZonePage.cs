using ManagedServers.Contracts.Api;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>Where a zone's page is, and how a zone name is written on pages.</summary>
public static class ZonePage
{
    /// <summary>The zone's page: /zones/example.com (the root zone: /zones/@).</summary>
    public static string Href(string zone) => "/zones/" + ZoneUrl.Segment(zone);

    /// <summary>The name as people read it: the root zone is ". (root)".</summary>
    public static string Display(string zone) => zone == "." ? ". (root)" : zone;

    /// <summary>A server's zone state in words: in_sync → "In sync".</summary>
    public static string Sync(string state) => state switch
    {
        "in_sync" => "In sync",
        "changed" => "Changed since push",
        "not_pushed" => "Not pushed",
        "deleted" => "Zone deleted",
        _ => Show.Title(state),
    };
}
