using System.Text.Json;
using Microsoft.Playwright;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>axe-core (from npm, <c>tests/Silo.Tests/Ui/package.json</c>), injected into a page and run over it.</summary>
public static class Axe
{
    private static readonly Lazy<string> Script = new(() =>
    {
        var path = Path.Combine(E2E.Build.RepoRoot, "tests", "Silo.Tests", "Ui", "node_modules", "axe-core", "axe.min.js");
        return File.Exists(path) ? File.ReadAllText(path) : throw new InvalidOperationException($"no {path}: run 'npm ci' in tests/Silo.Tests/Ui (scripts/test.sh does)");
    });

    /// <summary>The page's serious and critical violations of WCAG 2.x A and AA, one line each (rule, impact, what, where).</summary>
    public static async Task<IReadOnlyList<string>> SeriousViolationsAsync(IPage page)
    {
        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Content = Script.Value });
        var result = await page.EvaluateAsync<JsonElement>(
            "async () => (await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })).violations" +
            ".map(v => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))");
        return [.. result.EnumerateArray()
            .Where(v => v.GetProperty("impact").GetString() is "serious" or "critical")
            .Select(v => $"{v.GetProperty("id").GetString()} ({v.GetProperty("impact").GetString()}): {v.GetProperty("help").GetString()} at {string.Join(", ", v.GetProperty("targets").EnumerateArray().Select(t => t.GetString()))}")];
    }
}
