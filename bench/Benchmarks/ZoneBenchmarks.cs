using System.Diagnostics;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using ManagedServers.Grains.Zones;

namespace ManagedServers.Benchmarks;

/// <summary>Zone import stages on a generated zone: parse + validate (canonical sort included), and render + SHA-256 + gzip.</summary>
[MemoryDiagnoser]
public class ZoneImportBenchmarks
{
    private string _text = string.Empty;
    private ZoneRecord[] _records = [];

    [Params(100_000)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _text = ZoneBench.Generate(Records);
        _records = ZoneFileParser.Parse(_text, "example.test").Records;
    }

    [Benchmark]
    public int ParseAndValidate() => ZoneFileParser.Parse(_text, "example.test").Records.Length;

    [Benchmark]
    public long RenderAndPack() => ZoneText.Pack("example.test.", _records).Size;
}

/// <summary>One timed run by hand: <c>dotnet run -c Release --project bench/Benchmarks -- zones [records]</c>.</summary>
public static class ZoneBench
{
    /// <summary>A zone of <paramref name="records"/> records: mostly A, with AAAA, MX, TXT, CNAME and SRV mixed in, in file order (not canonical).</summary>
    public static string Generate(int records)
    {
        var sb = new StringBuilder(records * 40);
        sb.Append("$ORIGIN example.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n");
        for (var i = 0; i < records - 5; i++)
        {
            var host = "h" + i.ToString(CultureInfo.InvariantCulture);
            switch (i % 10)
            {
                case 7:
                    sb.Append(host).Append(" 300 IN AAAA 2001:db8::").Append((i & 0xffff).ToString("x", CultureInfo.InvariantCulture)).Append('\n');
                    break;
                case 8:
                    sb.Append(host).Append(" TXT \"v=spf1 -all\" \"id ").Append(i).Append("\"\n");
                    break;
                case 9:
                    sb.Append("www").Append(i).Append(" CNAME ").Append(host).Append('\n');
                    break;
                default:
                    sb.Append(host).Append(" 300 IN A 10.").Append((i >> 16) & 255).Append('.').Append((i >> 8) & 255).Append('.').Append(i & 255).Append('\n');
                    break;
            }
        }

        return sb.ToString();
    }

    public static int Run(int records)
    {
        var text = Generate(records);
        Console.WriteLine($"zone of {records:N0} records, {text.Length / 1e6:F1} M chars");
        for (var run = 0; run < 3; run++)
        {
            GC.Collect();
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            var parsed = ZoneFileParser.Parse(text, "example.test");
            var parse = sw.Elapsed;
            var packed = ZoneText.Pack(parsed.Apex, parsed.Records);
            var total = sw.Elapsed;
            var reparse = Stopwatch.StartNew();
            var again = ZoneFileParser.Parse(ZoneText.Unpack(packed.Gzip), "example.test");
            Console.WriteLine(
                $"run {run + 1}: parse+validate {parse.TotalMilliseconds:F0} ms, render+sha256+gzip {(total - parse).TotalMilliseconds:F0} ms, " +
                $"total {total.TotalMilliseconds:F0} ms; {parsed.Records.Length:N0} records, errors {parsed.Errors.Length}; text {packed.Size / 1e6:F1} MB, gzip {packed.Gzip.Length / 1e6:F2} MB; " +
                $"allocated {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1e6:F0} MB; re-parse of the canonical text {reparse.ElapsedMilliseconds} ms ({again.Records.Length:N0})");
        }

        return 0;
    }
}
