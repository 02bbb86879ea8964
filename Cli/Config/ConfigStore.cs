using System.Text.Json;

namespace ManagedServers.Cli.Config;

/// <summary>Reads and writes the saved login. The directory is created 0700 and the file written 0600.</summary>
internal sealed class ConfigStore(CliHost host)
{
    private const UnixFileMode PrivateDirMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>$XDG_CONFIG_HOME/managedservers/config.json, default ~/.config/managedservers/config.json.</summary>
    public string FilePath
    {
        get
        {
            var xdg = host.GetEnv("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(xdg) || !Path.IsPathRooted(xdg))
            {
                // The XDG spec says relative values are invalid and must be ignored.
                var home = host.GetEnv("HOME");
                if (string.IsNullOrEmpty(home))
                {
                    home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                }

                xdg = Path.Combine(home, ".config");
            }

            return Path.Combine(xdg, "managedservers", "config.json");
        }
    }

    public CliConfig? Load()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var config = JsonSerializer.Deserialize(File.ReadAllBytes(path), CliConfigJson.Default.CliConfig);
            return config is { Url.Length: > 0 } ? config : throw new JsonException("missing url");
        }
        catch (JsonException ex)
        {
            throw new CliException($"config file {path} is invalid ({ex.Message}); run 'msctl login' again or delete it");
        }
    }

    public void Save(CliConfig config)
    {
        var path = FilePath;
        var dir = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
        }
        else
        {
            Directory.CreateDirectory(dir, PrivateDirMode);
            File.SetUnixFileMode(dir, PrivateDirMode);
        }

        WritePrivateFile(path, JsonSerializer.SerializeToUtf8Bytes(config, CliConfigJson.Default.CliConfig));
    }

    /// <summary>Deletes the saved login; false when there was none.</summary>
    public bool Delete()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    /// <summary>Writes a file readable only by its owner (0600), replacing any existing file atomically.</summary>
    public static void WritePrivateFile(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFileMode;
        }

        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
