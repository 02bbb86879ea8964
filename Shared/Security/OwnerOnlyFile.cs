using System.Text;

namespace ManagedServers.Shared.Security;

/// <summary>Files only their owner may read (0600 from the moment they exist): the secrets key, the embedded database.</summary>
public static class OwnerOnlyFile
{
    /// <summary>Creates <paramref name="path"/> with <paramref name="content"/> unless it exists; another process creating it first is fine.</summary>
    public static void CreateIfMissing(string path, string content)
    {
        if (File.Exists(path))
        {
            return;
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream, Encoding.ASCII);
            writer.Write(content);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
        }
    }
}
