namespace ManagedServers.Grains.Interfaces.Zones;

/// <summary>Zone names as keys: lower case, no trailing dot (the root zone is not served).</summary>
public static class ZoneNames
{
    /// <summary>The key of <paramref name="input"/>, or why it is not a zone name.</summary>
    public static bool TryNormalize(string? input, out string name, out string error)
    {
        name = (input ?? string.Empty).Trim().TrimEnd('.').ToLowerInvariant();
        error = string.Empty;
        if (name.Length is 0 or > 253)
        {
            error = $"'{input}' is not a zone name: 1 to 253 characters, e.g. example.test";
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                error = $"'{input}' is not a zone name: labels of 1 to 63 letters, digits, '-' or '_', separated by dots";
                return false;
            }
        }

        return true;
    }
}
