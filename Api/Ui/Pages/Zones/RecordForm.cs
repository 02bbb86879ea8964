using System.Globalization;
using ManagedServers.Api.Ui.Shared;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Api.Ui.Pages.Zones;

/// <summary>A record being added or edited in the records grid, and the API's answer to it (messages by field).</summary>
public sealed class RecordForm
{
    public string? Id { get; init; }

    public string? Name { get; set; }

    public string? Type { get; set; }

    /// <summary>Text, so "300" and nothing (the record set's TTL) are both typed as people type them.</summary>
    public string? Ttl { get; set; }

    public string? Data { get; set; }

    public UiOutcome? Outcome { get; set; }

    private string? _ttlError;

    /// <summary>The message for a field: the TTL's own check, else the API's.</summary>
    public string? Error(string field) => field == "ttl" && _ttlError is not null ? _ttlError : Outcome?.FieldError(field);

    /// <summary>The form's message when the API's refusal names no field the grid shows.</summary>
    public string? Message => Outcome is { Ok: false } o && !o.Fields.Keys.Any(k => k is "name" or "type" or "ttl" or "data") ? o.Message : null;

    public static RecordForm Of(ZoneRecordView r) => new() { Id = r.Id, Name = r.Name, Type = r.Type, Ttl = r.Ttl.ToString(CultureInfo.InvariantCulture), Data = r.Data };

    /// <summary>The TTL as a number (empty: the default); false, with the field's message, when it is not one.</summary>
    public bool TryTtl(out long? ttl)
    {
        ttl = null;
        _ttlError = null;
        if (string.IsNullOrWhiteSpace(Ttl))
        {
            return true;
        }

        if (long.TryParse(Ttl.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            ttl = value;
            return true;
        }

        _ttlError = $"'{Ttl.Trim()}' is not a number of seconds";
        return false;
    }

    public ZoneRecordRequest Request(long? ttl) => new(Show.Typed(Name), Show.Typed(Type), ttl, Show.Typed(Data));
}
