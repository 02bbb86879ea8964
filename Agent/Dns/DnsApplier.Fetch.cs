using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dns;

/// <summary>Zone files of a <c>dns.apply</c>: inline (gzip, base64) or streamed from the control plane, checked against size and sha256.</summary>
internal sealed partial class DnsApplier
{
    /// <summary>Writes the uncompressed text of <paramref name="file"/> to <paramref name="path"/>, checking size and sha256.</summary>
    private async Task FetchAsync(DnsZoneFile file, string path, CancellationToken cancellationToken)
    {
        if (file.GzipBase64 is { } inline)
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(inline);
            }
            catch (FormatException)
            {
                throw new ZoneFileException($"zone {file.Zone}: the inline content is not base64");
            }

            await using var source = new MemoryStream(bytes);
            await WriteVerifiedAsync(file, source, path, cancellationToken);
            return;
        }

        if (file.Url is not { } url)
        {
            throw new ZoneFileException($"zone {file.Zone}: neither inline content nor a URL");
        }

        if (connection is null)
        {
            throw new ZoneFileException($"zone {file.Zone}: this agent has no connection to fetch {url} with");
        }

        HttpResponseMessage response;
        try
        {
            response = await connection.Client.GetAsync(connection.Resolve(url), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ZoneFileException($"zone {file.Zone}: cannot fetch {url}: {e.Message}");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new ZoneFileException(response.StatusCode switch
                {
                    HttpStatusCode.Gone => $"zone {file.Zone}: zone changed since the push was made; push again (410 from {url})",
                    HttpStatusCode.Forbidden => $"zone {file.Zone}: the control plane says the zone is not assigned to this server (403 from {url})",
                    HttpStatusCode.NotFound => $"zone {file.Zone}: not found at {url} (404)",
                    _ => $"zone {file.Zone}: fetching {url} answered {(int)response.StatusCode} {response.ReasonPhrase}",
                });
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await WriteVerifiedAsync(file, body, path, cancellationToken);
        }
    }

    private static async Task WriteVerifiedAsync(DnsZoneFile file, Stream gzip, string path, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        try
        {
            await using var unzip = new GZipStream(gzip, CompressionMode.Decompress);
            await using var output = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous });
            var buffer = new byte[81920];
            int read;
            while ((read = await unzip.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                if (size > file.Size)
                {
                    throw new ZoneFileException($"zone {file.Zone}: the content is larger than the {file.Size} bytes announced");
                }

                sha.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            output.Flush(flushToDisk: true);
        }
        catch (InvalidDataException e)
        {
            throw new ZoneFileException($"zone {file.Zone}: the content is not valid gzip: {e.Message}");
        }

        if (size != file.Size)
        {
            throw new ZoneFileException($"zone {file.Zone}: {size} bytes received, {file.Size} announced");
        }

        var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (!string.Equals(hash, file.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ZoneFileException($"zone {file.Zone}: sha256 {hash} does not match the announced {file.Sha256}");
        }
    }
}
