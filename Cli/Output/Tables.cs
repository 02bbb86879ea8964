using Spectre.Console;
using Spectre.Console.Rendering;

namespace ManagedServers.Cli.Output;

/// <summary>
/// Every msctl table: one look (rounded border, upper-case headers) and one way of fitting the width. A table wider
/// than the output gets column widths that wrap cells between words, never inside one (Spectre.Console alone shrinks
/// the widest column, "demo-dn" / "s"); when even the longest words do not fit and the output is not a terminal, the
/// table is written wider than <c>COLUMNS</c> rather than breaking a word. On a terminal that last case falls back to
/// Spectre.Console's own fitting, so nothing runs past the screen.
/// </summary>
internal static class Tables
{
    /// <summary>A table with these columns (headers are upper-cased; their text is not markup).</summary>
    public static Table Create(params TableColumn[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(column);
        }

        return table;
    }

    /// <summary>A table whose columns are all plain (left-aligned, wrapping).</summary>
    public static Table Create(params string[] headers) => Create([.. headers.Select(h => Column(h))]);

    /// <summary>A column: <paramref name="right"/> aligns numbers, <paramref name="noWrap"/> keeps a cell on one line.</summary>
    public static TableColumn Column(string header, bool right = false, bool noWrap = false)
    {
        var column = new TableColumn(new Text(header.ToUpperInvariant()));
        if (right)
        {
            column.RightAligned();
        }

        if (noWrap)
        {
            column.NoWrap();
        }

        return column;
    }

    /// <summary>Writes <paramref name="table"/> fitted to the output's width (see the class summary).</summary>
    public static void Write(CliHost host, Table table)
    {
        var console = host.Console;
        var width = console.Profile.Width;
        var columns = table.Columns;
        if (columns.Count == 0)
        {
            console.Write(table);
            return;
        }

        var options = RenderOptions.Create(console);
        var min = new int[columns.Count];
        var max = new int[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            Widen(i, columns[i].Header.Measure(options, width));
        }

        foreach (var row in table.Rows)
        {
            var i = 0;
            foreach (var cell in row)
            {
                Widen(i++, cell.Measure(options, width));
            }
        }

        for (var i = 0; i < columns.Count; i++)
        {
            min[i] = columns[i].NoWrap ? max[i] : min[i];
        }

        var chrome = (table.Border.Visible ? columns.Count + 1 : 0) + columns.Sum(c => c.Padding is { } p ? p.Left + p.Right : 0);
        var available = width - chrome;
        if (max.Sum() <= available)
        {
            console.Write(table);
            return;
        }

        var fits = min.Sum() <= available;
        var widths = fits ? Distribute(min, max, available) : min;
        for (var i = 0; i < columns.Count; i++)
        {
            columns[i].Width = widths[i];
        }

        console.Write(fits || host.OutputIsTerminal ? table : new AtLeast(table, widths.Sum() + chrome));

        void Widen(int i, Measurement m)
        {
            if (i < min.Length)
            {
                min[i] = Math.Max(min[i], m.Min);
                max[i] = Math.Max(max[i], m.Max);
            }
        }
    }

    /// <summary>
    /// Column widths from their minimum (the longest word) up, the room left shared in proportion to what each column
    /// still wants (up to its widest cell), so the sum is <paramref name="available"/>.
    /// </summary>
    internal static int[] Distribute(int[] min, int[] max, int available)
    {
        var widths = (int[])min.Clone();
        var extra = available - widths.Sum();
        while (extra > 0)
        {
            var wanting = Enumerable.Range(0, widths.Length).Where(i => widths[i] < max[i]).ToList();
            if (wanting.Count == 0)
            {
                break;
            }

            var wanted = wanting.Sum(i => (long)(max[i] - widths[i]));
            var given = 0;
            foreach (var i in wanting)
            {
                var share = (int)Math.Min(max[i] - widths[i], extra * (long)(max[i] - widths[i]) / wanted);
                widths[i] += share;
                given += share;
            }

            if (given == 0)
            {
                widths[wanting.MaxBy(i => max[i] - widths[i])]++;
                given = 1;
            }

            extra -= given;
        }

        return widths;
    }

    /// <summary>Renders its content at least <paramref name="width"/> wide (off a terminal, rather than breaking words).</summary>
    private sealed class AtLeast(IRenderable content, int width) : IRenderable
    {
        public Measurement Measure(RenderOptions options, int maxWidth) => content.Measure(options, Math.Max(maxWidth, width));

        public IEnumerable<Segment> Render(RenderOptions options, int maxWidth) => content.Render(options, Math.Max(maxWidth, width));
    }
}
