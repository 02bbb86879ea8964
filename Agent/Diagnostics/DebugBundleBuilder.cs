using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// Builds a debug bundle: a tar.gz (in memory) with <c>versions.json</c>, the last <c>diagnostics.json</c>, the agent's
/// settings and <c>amqp.json</c> (redacted), <c>docker.txt</c>, each service's configuration files (redacted) and log
/// tail, the agent log tails, and <c>MANIFEST.txt</c> (files, sizes, what was cut or left out). Private keys are never
/// included. Bounds: each log at most <see cref="DebugBundleArgs.LogBytes"/> (its newest part), and the compressed
/// bundle at most <see cref="DebugBundleArgs.MaxBytes"/>: content is added in order of importance until the next piece
/// would not fit, which is then cut (logs keep their tail) or left out.
/// </summary>
internal sealed partial class DebugBundleBuilder(StateDirectory state, IServiceInventory inventory, TimeProvider time, ILogger<DebugBundleBuilder> logger)
{
    public const int MinMaxBytes = 64 * 1024;
    public const int MaxMaxBytes = 64 * 1024 * 1024;
    public const string ManifestName = "MANIFEST.txt";

    /// <summary>Configuration files are cut beyond this (they are small; a huge one is not a configuration).</summary>
    public const int MaxConfigBytes = 1024 * 1024;

    /// <summary>Room kept for MANIFEST.txt, the tar end blocks and the gzip trailer.</summary>
    private const int ManifestReserve = 16 * 1024;

    /// <summary>Tar headers (pax extended header + header + padding) and deflate framing of one entry, at most.</summary>
    private const int EntryOverhead = 2048 + 64;

    private static readonly TimeSpan SourceTimeout = TimeSpan.FromSeconds(10);
    private static readonly UnixFileMode EntryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Checks the arguments; null when they are usable, else why not.</summary>
    public static string? Validate(DebugBundleArgs args) =>
        args.MaxBytes is < MinMaxBytes or > MaxMaxBytes
            ? $"max_bytes must be between {MinMaxBytes} and {MaxMaxBytes}"
            : args.LogBytes < 0 ? "log_bytes must not be negative" : null;

    public async Task<DebugBundleOutput> BuildAsync(DebugBundleArgs args, CancellationToken cancellationToken)
    {
        if (Validate(args) is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(args));
        }

        var created = time.GetUtcNow();
        var notes = new List<string>();
        var items = await CollectAsync(args, notes, cancellationToken);
        var (bundle, files, truncated) = await Task.Run(() => PackWithinBound(items, notes, args, created), cancellationToken);
        var output = new DebugBundleOutput(bundle.Length, Convert.ToHexStringLower(SHA256.HashData(bundle)), files, truncated, Convert.ToBase64String(bundle));
        LogBuilt(logger, bundle.Length, files.Count, truncated);
        return output;
    }

    private async Task<List<Item>> CollectAsync(DebugBundleArgs args, List<string> notes, CancellationToken cancellationToken)
    {
        var items = new List<Item>();
        var statuses = Safe(inventory.Statuses, [], "service list", notes);

        items.Add(new Item("versions.json", Versions(statuses)));

        var diagnostics = DiagnosticsRunner.ReportFile(state);
        if (TryRead(diagnostics, MaxConfigBytes, notes, out var report))
        {
            items.Add(new Item(DiagnosticsRunner.ReportFileName, report));
        }
        else if (!File.Exists(diagnostics))
        {
            notes.Add($"{DiagnosticsRunner.ReportFileName}: not included: diagnostics never ran on this agent");
        }

        AddRedactedJson(items, notes, state.SettingsFile, "agent/agent.json");
        if (File.Exists(state.AmqpFile))
        {
            AddRedactedJson(items, notes, state.AmqpFile, "agent/amqp.json");
        }

        items.Add(new Item("docker.txt", Encoding.UTF8.GetBytes(await RuntimeLineAsync(notes, cancellationToken) + "\n")));

        foreach (var status in statuses)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var file in Safe(() => inventory.ConfigFiles(status.Kind), [], $"configuration files of {status.Kind}", notes))
            {
                var name = Unique(names, $"services/{status.Kind}/config/{Path.GetFileName(file)}");
                AddConfig(items, notes, file, name);
            }
        }

        // Logs last: they are the biggest and the first to be cut.
        var logs = Path.Combine(state.Path, RollingFileLoggerProvider.DirectoryName);
        AddFileTail(items, notes, RollingFileLoggerProvider.FilePath(logs, 0), "agent/agent.log", args.LogBytes);
        foreach (var status in statuses)
        {
            var tail = await ServiceLogAsync(status.Kind, args.LogBytes, notes, cancellationToken);
            if (tail is not null)
            {
                items.Add(tail);
            }
        }

        for (var i = 1; File.Exists(RollingFileLoggerProvider.FilePath(logs, i)); i++)
        {
            AddFileTail(items, notes, RollingFileLoggerProvider.FilePath(logs, i), $"agent/agent.log.{i}", args.LogBytes);
        }

        return items;
    }

    private byte[] Versions(IReadOnlyList<ServiceStatus> statuses)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("created_at", time.GetUtcNow());
            writer.WriteString("agent_version", AgentInfo.Version);
            writer.WriteString("hostname", AgentInfo.Hostname ?? Environment.MachineName);
            writer.WriteString("os", AgentInfo.Os ?? RuntimeInformation.OSDescription);
            writer.WriteString("kernel", AgentInfo.Kernel); // the release, as uname -r prints it; the OS name is "os"
            writer.WriteString("architecture", RuntimeInformation.OSArchitecture.ToString());
            writer.WriteString("dotnet", RuntimeInformation.FrameworkDescription);
            writer.WriteString("runtime", inventory.RuntimeName);
            writer.WriteStartArray("services");
            foreach (var status in statuses)
            {
                JsonSerializer.Serialize(writer, status, ContractsJson.Default.ServiceStatus);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private async Task<string> RuntimeLineAsync(List<string> notes, CancellationToken cancellationToken)
    {
        var runtime = inventory.RuntimeName;
        if (runtime is null)
        {
            return "runtime: none (no services installed)";
        }

        try
        {
            var health = await inventory.CheckRuntimeAsync(cancellationToken).WaitAsync(SourceTimeout, time, cancellationToken);
            return $"runtime: {runtime}: {(health.Healthy ? "healthy" : "NOT healthy")}: {health.Description}";
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            notes.Add($"docker.txt: runtime check failed: {e.Message}");
            return $"runtime: {runtime}: check failed: {e.Message}";
        }
    }

    private async Task<Item?> ServiceLogAsync(string kind, int logBytes, List<string> notes, CancellationToken cancellationToken)
    {
        var name = $"services/{kind}/service.log";
        try
        {
            // One byte more than allowed: a longer answer means the log was cut here.
            var text = await inventory.ReadLogTailAsync(kind, logBytes + 1, cancellationToken).WaitAsync(SourceTimeout, time, cancellationToken);
            var bytes = Encoding.UTF8.GetBytes(text);
            if (bytes.Length <= logBytes)
            {
                return new Item(name, bytes, KeepTail: true);
            }

            var tail = AlignToLine(bytes.AsSpan(bytes.Length - logBytes));
            return new Item(name, tail, KeepTail: true, Cut: $"newest {tail.Length} bytes (log_bytes limit)", Truncated: true);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            notes.Add($"{name}: not included: {e.Message}");
            return null;
        }
    }

    private static void AddFileTail(List<Item> items, List<string> notes, string path, string name, int logBytes)
    {
        if (!File.Exists(path))
        {
            return;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = stream.Length;
            var take = (int)Math.Min(length, logBytes);
            stream.Seek(length - take, SeekOrigin.Begin);
            var bytes = new byte[take];
            stream.ReadExactly(bytes);
            if (take == length)
            {
                items.Add(new Item(name, bytes, KeepTail: true));
                return;
            }

            var tail = AlignToLine(bytes);
            items.Add(new Item(name, tail, KeepTail: true, Cut: string.Create(CultureInfo.InvariantCulture, $"newest {tail.Length} of {length} bytes (log_bytes limit)"), Truncated: true));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            notes.Add($"{name}: not included: {e.Message}");
        }
    }

    private static void AddRedactedJson(List<Item> items, List<string> notes, string path, string name)
    {
        if (TryRead(path, MaxConfigBytes, notes, out var bytes))
        {
            items.Add(new Item(name, Encoding.UTF8.GetBytes(Redaction.RedactJson(Encoding.UTF8.GetString(bytes))), Cut: "secrets redacted"));
        }
    }

    private static void AddConfig(List<Item> items, List<string> notes, string path, string name)
    {
        if (Redaction.IsKeyFile(path))
        {
            notes.Add($"{name}: not included: key file");
            return;
        }

        if (!TryRead(path, MaxConfigBytes + 1, notes, out var bytes))
        {
            return;
        }

        var cut = bytes.Length > MaxConfigBytes;
        var text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, MaxConfigBytes));
        if (Redaction.HasPrivateKey(text))
        {
            notes.Add($"{name}: not included: holds a private key");
            return;
        }

        var json = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || LooksLikeJson(text);
        var redacted = json && !cut ? Redaction.RedactJson(text) : json ? Redaction.RedactJsonText(text) : Redaction.RedactYaml(text);
        items.Add(new Item(name, Encoding.UTF8.GetBytes(redacted), Cut: cut ? $"first {MaxConfigBytes} bytes, secrets redacted" : "secrets redacted", Truncated: cut));
    }

    /// <summary>
    /// Kea's configuration is JSON (with comments) whatever its extension; knot.conf is YAML, whose first line that is
    /// not a comment never starts with '{'.
    /// </summary>
    private static bool LooksLikeJson(string text) =>
        text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("//", StringComparison.Ordinal) && !l.StartsWith("/*", StringComparison.Ordinal) && !l.StartsWith('*'))
            is { } first && first.StartsWith('{');

    private static bool TryRead(string path, int maxBytes, List<string> notes, out byte[] bytes)
    {
        bytes = [];
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[(int)Math.Min(stream.Length, maxBytes)];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            bytes = buffer.AsSpan(0, read).ToArray();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            notes.Add($"{path}: not included: {e.Message}");
            return false;
        }
    }

    private static T Safe<T>(Func<T> get, T fallback, string what, List<string> notes)
    {
        try
        {
            return get();
        }
        catch (Exception e)
        {
            notes.Add($"{what}: not available: {e.Message}");
            return fallback;
        }
    }

    private static string Unique(HashSet<string> names, string name)
    {
        var candidate = name;
        for (var i = 2; !names.Add(candidate); i++)
        {
            candidate = name + "." + i.ToString(CultureInfo.InvariantCulture);
        }

        return candidate;
    }

    /// <summary>Drops a partial first line of a log tail (when a line break comes soon enough).</summary>
    private static byte[] AlignToLine(ReadOnlySpan<byte> tail)
    {
        var newline = tail[..Math.Min(tail.Length, 4096)].IndexOf((byte)'\n');
        return (newline >= 0 && newline + 1 < tail.Length ? tail[(newline + 1)..] : tail).ToArray();
    }

    /// <summary>Packs within MaxBytes; should the compressed estimate be off, packs again with a smaller budget.</summary>
    private (byte[] Bundle, List<string> Files, bool Truncated) PackWithinBound(List<Item> items, List<string> notes, DebugBundleArgs args, DateTimeOffset created)
    {
        foreach (var share in (double[])[1.0, 0.85, 0.7, 0.5])
        {
            var packed = Pack(items, notes, args, created, (long)(args.MaxBytes * share));
            if (packed.Bundle.Length <= args.MaxBytes)
            {
                return packed;
            }
        }

        return Pack([], [.. notes, "everything: left out: the bundle could not be kept within max_bytes"], args, created, 0);
    }

    private static (byte[] Bundle, List<string> Files, bool Truncated) Pack(List<Item> items, List<string> notes, DebugBundleArgs args, DateTimeOffset created, long budget)
    {
        var output = new MemoryStream();
        var files = new List<string>();
        var lines = new List<string>();
        var left = new List<string>(notes);
        var truncated = false;
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
            {
                foreach (var item in items)
                {
                    var content = item.Content;
                    var cut = item.Cut;
                    truncated |= item.Truncated; // e.g. a log already cut to log_bytes
                    var room = budget - output.Length - ManifestReserve - EntryOverhead;
                    if (content.Length + (content.Length / 1000) > room)
                    {
                        var fitted = Fit(content, item.KeepTail, room);
                        if (fitted is null)
                        {
                            truncated = true;
                            left.Add($"{item.Name}: left out: the bundle reached max_bytes");
                            continue;
                        }

                        if (fitted.Length < content.Length)
                        {
                            truncated = true;
                            cut = string.Create(CultureInfo.InvariantCulture, $"{(item.KeepTail ? "newest" : "first")} {fitted.Length} of {content.Length} bytes (max_bytes limit)");
                            content = fitted;
                        }
                    }

                    Add(tar, item.Name, content, created);
                    gzip.Flush(); // sync flush: output.Length is now the compressed size so far
                    files.Add(item.Name);
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {item.Name}  {content.Length} bytes{(cut is null ? "" : "  (" + cut + ")")}"));
                }

                var manifest = new StringBuilder()
                    .AppendLine("ManagedServers agent debug bundle")
                    .AppendLine(CultureInfo.InvariantCulture, $"created: {created:yyyy-MM-ddTHH:mm:ssZ}")
                    .AppendLine(CultureInfo.InvariantCulture, $"agent: {AgentInfo.Version} on {AgentInfo.Hostname ?? Environment.MachineName}")
                    .AppendLine(CultureInfo.InvariantCulture, $"limits: max_bytes={args.MaxBytes} log_bytes={args.LogBytes}")
                    .AppendLine(CultureInfo.InvariantCulture, $"truncated: {(truncated ? "yes" : "no")}")
                    .AppendLine()
                    .AppendLine("files:");
                lines.ForEach(line => manifest.AppendLine(line));
                manifest.AppendLine(CultureInfo.InvariantCulture, $"  {ManifestName}");
                if (left.Count > 0)
                {
                    manifest.AppendLine().AppendLine("notes:");
                    left.ForEach(note => manifest.AppendLine("  " + note));
                }

                Add(tar, ManifestName, Encoding.UTF8.GetBytes(manifest.ToString()), created);
                files.Add(ManifestName);
            }
        }

        return (output.ToArray(), files, truncated);
    }

    /// <summary>
    /// The largest part of <paramref name="content"/> (its end for logs, else its start) whose compressed size fits
    /// <paramref name="room"/>, found from measured compression ratios; null when not even 1 KiB fits.
    /// </summary>
    private static byte[]? Fit(byte[] content, bool keepTail, long room)
    {
        if (room < 1024)
        {
            return null;
        }

        var compressed = CompressedSize(content);
        if (compressed <= room)
        {
            return content;
        }

        var length = (long)(content.Length * (room / (double)compressed) * 0.95);
        for (var attempt = 0; attempt < 6 && length >= 1024; attempt++)
        {
            var part = keepTail ? AlignToLine(content.AsSpan(content.Length - (int)length)) : content.AsSpan(0, (int)length).ToArray();
            compressed = CompressedSize(part);
            if (compressed <= room)
            {
                return part;
            }

            length = (long)(length * (room / (double)compressed) * 0.95);
        }

        return null;
    }

    private static long CompressedSize(ReadOnlySpan<byte> content)
    {
        var counter = new CountingStream();
        using (var deflate = new DeflateStream(counter, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(content);
        }

        return counter.Length;
    }

    private static void Add(TarWriter tar, string name, byte[] content, DateTimeOffset created)
    {
        using var data = new MemoryStream(content, writable: false);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = data,
            ModificationTime = created,
            Mode = EntryMode,
        });
    }

    /// <summary>A piece of the bundle; <see cref="Cut"/> says how it differs from the source (for the manifest).</summary>
    private sealed record Item(string Name, byte[] Content, bool KeepTail = false, string? Cut = null, bool Truncated = false);

    /// <summary>Counts what is written and keeps nothing.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }

    [LoggerMessage(910, LogLevel.Information, "Debug bundle built: {Bytes} bytes, {Files} files, truncated {Truncated}")]
    private static partial void LogBuilt(ILogger logger, int bytes, int files, bool truncated);
}
