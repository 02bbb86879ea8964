using System.Globalization;
using System.Text;

namespace ManagedServers.Contracts;

/// <summary>
/// Bounds what a message quotes of its input: an error about a 50 MB token quotes its first characters and its length,
/// not the token. Every quoted run ('…') over <see cref="MaxQuoted"/> characters is cut, and the whole message to
/// <see cref="MaxMessage"/>; short messages come back as they are. Used where messages are recorded (zone-file errors,
/// API field errors and problem details), so error bodies and log lines stay small whatever the input.
/// </summary>
public static class Excerpt
{
    public const int MaxQuoted = 80;
    public const int MaxMessage = 2000;

    /// <summary>The start of <paramref name="text"/>, with "… (N characters)" when it was longer than <paramref name="max"/>.</summary>
    public static string Of(string text, int max = MaxQuoted) =>
        text.Length <= max ? text : string.Create(CultureInfo.InvariantCulture, $"{text.AsSpan(0, max - 20)}… ({text.Length:N0} characters)");

    public static string Bound(string message)
    {
        if (message.Length <= MaxQuoted + 40)
        {
            return message;
        }

        var result = new StringBuilder(Math.Min(message.Length, MaxMessage + 40));
        var i = 0;
        while (i < message.Length && result.Length < MaxMessage)
        {
            var open = message.IndexOf('\'', i);
            var close = open < 0 ? -1 : message.IndexOf('\'', open + 1);
            if (close < 0)
            {
                result.Append(message.AsSpan(i));
                break;
            }

            result.Append(message.AsSpan(i, open + 1 - i));
            result.Append(Of(message[(open + 1)..close]));
            result.Append('\'');
            i = close + 1;
        }

        return result.Length <= MaxMessage ? result.ToString() : Of(result.ToString(), MaxMessage);
    }
}
