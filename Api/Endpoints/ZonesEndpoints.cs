using System.Globalization;
using System.IO.Compression;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Zones;
using Microsoft.AspNetCore.Mvc;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// /api/v1/zones: DNS zones, imported from or exported to RFC 1035 zone files, and their records. Every change is
/// validated whole by the zone grain (nothing is stored when it fails: 400 with one "line N: …" message per error) and
/// bumps the SOA serial. Listings come from the zone catalog shards, never from the zone grains.
/// </summary>
public static class ZonesEndpoints
{
    /// <summary>Largest accepted zone-file body: a million-record zone is about 35 MB of JSON.</summary>
    public const long MaxZoneBody = 256L * 1024 * 1024;

    public static IEndpointRouteBuilder MapZonesApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/zones").WithTags("Zones").RequireAuthorization(Permissions.ZonesRead);
        var write = app.MapGroup("/api/v1/zones").WithTags("Zones").RequireAuthorization(Permissions.ZonesWrite);
        read.MapGet("/", ListAsync).WithName("ListZones").WithSummary("List zones with search, paging and sort (from the zone catalog)");
        write.MapPost("/", CreateAsync).WithName("CreateZone").WithMetadata(new RequestSizeLimitAttribute(MaxZoneBody))
            .WithSummary("Import a zone from an RFC 1035 zone file, or create a minimal zone (SOA and NS)");
        read.MapGet("/{zone}", GetAsync).WithName("GetZone").WithSummary("One zone: serial, record count, size and SHA-256 of its zone file");
        write.MapDelete("/{zone}", DeleteAsync).WithName("DeleteZone").WithSummary("Delete a zone");
        write.MapPut("/{zone}/file", ReplaceAsync).WithName("ReplaceZoneFile").WithMetadata(new RequestSizeLimitAttribute(MaxZoneBody))
            .WithSummary("Replace the zone's content from a zone file (the serial moves forward)");
        read.MapGet("/{zone}/servers", ListServersAsync).WithName("ListZoneServers")
            .WithSummary("The servers the zone is assigned to: serial live on each and in_sync | changed | not_pushed");
        read.MapGet("/{zone}/export", ExportAsync).WithName("ExportZone").WithSummary("The zone file (text/dns), canonical: SOA first, owners in canonical order");
        read.MapGet("/{zone}/records", ListRecordsAsync).WithName("ListZoneRecords").WithSummary("The zone's records, filtered by name and type, paged");
        write.MapPost("/{zone}/records", AddRecordAsync).WithName("AddZoneRecord").WithSummary("Add one record (bumps the serial)");
        read.MapGet("/{zone}/records/{id}", GetRecordAsync).WithName("GetZoneRecord").WithSummary("One record by id");
        write.MapPut("/{zone}/records/{id}", UpdateRecordAsync).WithName("UpdateZoneRecord").WithSummary("Replace one record (bumps the serial; the id follows the content)");
        write.MapDelete("/{zone}/records/{id}", DeleteRecordAsync).WithName("DeleteZoneRecord").WithSummary("Delete one record (bumps the serial)");
        return app;
    }

    public static async Task<Results<Ok<PageOf<ZoneView>>, ValidationProblem>> ListAsync(
        IGrainFactory grains, string? q = null, int? page = null, int? per_page = null, string? sort = null)
    {
        var errors = new FieldErrors();
        var (pageNo, perPage) = errors.Paging(page, per_page);
        var sortText = string.IsNullOrEmpty(sort) ? "name" : sort;
        var descending = sortText.StartsWith('-');
        if (!ServerMapping.TryParse<ZoneSort>(sortText.TrimStart('-', '+'), out var sortKey))
        {
            errors.Add("sort", $"unknown sort '{sort}'; use one of {ServerMapping.Choices<ZoneSort>()} (prefix '-' for descending)");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var query = new ZoneQuery(q, sortKey, descending, pageNo * perPage);
        var results = await ZoneCatalog.AskAllAsync(grains, shard => shard.QueryAsync(query));
        var merged = results.SelectMany(r => r.Items).ToList();
        merged.Sort(ZoneCatalog.Comparer(sortKey, descending));
        var items = merged.Skip((pageNo - 1) * perPage).Take(perPage).Select(ToView).ToList();
        return TypedResults.Ok(new PageOf<ZoneView>(items, results.Sum(r => r.Total), pageNo, perPage));
    }

    public static async Task<Results<Created<ZoneImportView>, ValidationProblem, ProblemHttpResult>> CreateAsync(CreateZoneRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        if (!ZoneNames.TryNormalize(body.Name, out var name, out var why))
        {
            errors.Add("name", why);
        }

        if (body.ZoneFile is not null && (body.PrimaryNs is not null || body.Email is not null || body.DefaultTtl is not null))
        {
            errors.Add("zone_file", "give either zone_file or the minimal-zone options (primary_ns, email, default_ttl), not both");
        }

        if (body.PrimaryNs is { } ns && !ZoneNames.TryNormalize(ns, out _, out var nsWhy))
        {
            errors.Add("primary_ns", nsWhy);
        }

        if (body.Email is { } email && (email.Count(c => c == '@') != 1 || !ZoneNames.TryNormalize(email[(email.IndexOf('@', StringComparison.Ordinal) + 1)..], out _, out _)
            || email.StartsWith('@') || email.Any(c => c <= ' ' || c > '~' || c is '"' or ';' or '(' or ')' or '\\')))
        {
            errors.Add("email", "must be a mail address such as hostmaster@example.com");
        }

        if (body.DefaultTtl is < 0)
        {
            errors.Add("default_ttl", "must be between 0 and 2147483647");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var imported = await grains.GetGrain<IZoneGrain>(name).CreateAsync(new ZoneCreate(body.ZoneFile, body.PrimaryNs, body.Email, body.DefaultTtl));
        return TypedResults.Created($"/api/v1/zones/{ZoneUrl.Segment(name)}", ToView(imported));
    }

    public static async Task<Results<Ok<ZoneView>, ValidationProblem, ProblemHttpResult>> GetAsync(string zone, IGrainFactory grains)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        var summary = await grains.GetGrain<IZoneGrain>(name).GetSummaryAsync();
        return summary is null ? Problem.NotFound($"zone '{name}' not found") : TypedResults.Ok(ToView(summary));
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(string zone, IGrainFactory grains)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        await grains.GetGrain<IZoneGrain>(name).DeleteAsync();
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<ZoneImportView>, ValidationProblem, ProblemHttpResult>> ReplaceAsync(string zone, ZoneFileRequest body, IGrainFactory grains)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body.ZoneFile))
        {
            var errors = new FieldErrors();
            errors.Add("zone_file", "is required: the zone's RFC 1035 text");
            return errors.ToProblem();
        }

        return TypedResults.Ok(ToView(await grains.GetGrain<IZoneGrain>(name).ReplaceAsync(body.ZoneFile)));
    }

    public static async Task<Results<Ok<ZoneServerView[]>, ValidationProblem, ProblemHttpResult>> ListServersAsync(string zone, IGrainFactory grains)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        var summary = await grains.GetGrain<IZoneGrain>(name).GetSummaryAsync();
        if (summary is null)
        {
            return Problem.NotFound($"zone '{name}' not found");
        }

        // The index names the servers; each confirms (an entry a lost silo left behind answers null and is dropped).
        var ids = await grains.GetGrain<IZoneServersGrain>(name).ListAsync();
        var rows = await Task.WhenAll(ids.Select(async id =>
        {
            var onServer = grains.GetGrain<Grains.Interfaces.Dns.IServerDnsGrain>(id).GetZoneAsync(name, summary.Serial);
            var server = grains.GetGrain<IManagedServerGrain>(id).GetAsync();
            return (await onServer, await server) is ({ } z, { } s)
                ? new ZoneServerView(id, s.Definition.Name, ServerMapping.Wire(s.State), z.Serial, z.AppliedSerial, z.AppliedAt, ServerDnsEndpoints.SyncOf(z))
                : null;
        }));
        return TypedResults.Ok(rows.OfType<ZoneServerView>().OrderBy(r => r.ServerName, StringComparer.OrdinalIgnoreCase).ToArray());
    }

    /// <summary>The zone file, decompressed as it streams out; <c>ETag</c> is the text's SHA-256, <c>X-Zone-Serial</c> its serial.</summary>
    public static async Task<IResult> ExportAsync(string zone, IGrainFactory grains, HttpResponse response)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        var file = await grains.GetGrain<IZoneGrain>(name).GetFileAsync();
        if (file is null)
        {
            return Problem.NotFound($"zone '{name}' not found");
        }

        response.Headers.ETag = $"\"{file.Sha256}\"";
        response.Headers["X-Zone-Serial"] = file.Serial.ToString(CultureInfo.InvariantCulture);
        var text = new GZipStream(new MemoryStream(file.Gzip), CompressionMode.Decompress);
        return TypedResults.Stream(text, "text/dns", fileDownloadName: $"{(name == ZoneNames.Root ? "root" : name.Replace('/', '-'))}.zone");
    }

    public static async Task<Results<Ok<PageOf<ZoneRecordView>>, ValidationProblem, ProblemHttpResult>> ListRecordsAsync(
        string zone, IGrainFactory grains, string? name = null, string? type = null, int? page = null, int? per_page = null)
    {
        if (!TryZone(zone, out var zoneName, out var problem))
        {
            return problem;
        }

        var errors = new FieldErrors();
        var (pageNo, perPage) = errors.Paging(page, per_page);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var result = await grains.GetGrain<IZoneGrain>(zoneName).ListRecordsAsync(new ZoneRecordQuery(name, type, (pageNo - 1) * perPage, perPage));
        return TypedResults.Ok(new PageOf<ZoneRecordView>([.. result.Items.Select(ToView)], result.Total, pageNo, perPage));
    }

    public static async Task<Results<Ok<ZoneRecordView>, ValidationProblem, ProblemHttpResult>> GetRecordAsync(string zone, string id, IGrainFactory grains)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        var record = await grains.GetGrain<IZoneGrain>(name).GetRecordAsync(id);
        return record is null ? Problem.NotFound($"record '{id}' not found in zone '{name}'") : TypedResults.Ok(ToView(record));
    }

    public static async Task<Results<Created<ZoneRecordChangeView>, ValidationProblem, ProblemHttpResult>> AddRecordAsync(
        string zone, ZoneRecordRequest body, IGrainFactory grains)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        var change = await grains.GetGrain<IZoneGrain>(name).AddRecordAsync(new ZoneRecordInput(body.Name, body.Type, body.Ttl, body.Data));
        return TypedResults.Created($"/api/v1/zones/{ZoneUrl.Segment(name)}/records/{change.Record.Id}", ToView(change));
    }

    public static async Task<Results<Ok<ZoneRecordChangeView>, ValidationProblem, ProblemHttpResult>> UpdateRecordAsync(
        string zone, string id, ZoneRecordRequest body, IGrainFactory grains)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        var change = await grains.GetGrain<IZoneGrain>(name).UpdateRecordAsync(id, new ZoneRecordInput(body.Name, body.Type, body.Ttl, body.Data));
        return TypedResults.Ok(ToView(change));
    }

    public static async Task<Results<Ok<ZoneSerialView>, ValidationProblem, ProblemHttpResult>> DeleteRecordAsync(string zone, string id, IGrainFactory grains)
    {
        if (!TryZone(zone, out var name, out var problem))
        {
            return problem;
        }

        return TypedResults.Ok(new ZoneSerialView(await grains.GetGrain<IZoneGrain>(name).DeleteRecordAsync(id)));
    }

    /// <summary>
    /// The zone name from the path, normalised ("Example.COM." → "example.com"; '/' written %2F, the root zone '@', see
    /// <see cref="ZoneUrl"/>); a bad one is a 400 on <c>zone</c>.
    /// </summary>
    private static bool TryZone(string zone, out string name, out ValidationProblem problem)
    {
        problem = null!;
        if (ZoneNames.TryNormalize(ZoneUrl.Name(zone), out name, out var why))
        {
            return true;
        }

        var errors = new FieldErrors();
        errors.Add("zone", why);
        problem = errors.ToProblem();
        return false;
    }

    public static ZoneView ToView(ZoneSummary z) => new(z.Name, z.Serial, z.RecordCount, z.Sha256, z.Size, z.GzipSize, z.CreatedAt, z.UpdatedAt);

    public static ZoneImportView ToView(ZoneImport i) => new(
        i.Zone.Name, i.Zone.Serial, i.Zone.RecordCount, i.Zone.Sha256, i.Zone.Size, i.Zone.GzipSize, i.Zone.CreatedAt, i.Zone.UpdatedAt,
        [.. i.Warnings.Select(w => w.ToString())], i.WarningsTruncated);

    public static ZoneRecordView ToView(ZoneRecordItem r) => new(r.Id, r.Name, r.Type, r.Ttl, r.Data);

    public static ZoneRecordChangeView ToView(ZoneRecordChange c) => new(ToView(c.Record), c.Serial);
}
