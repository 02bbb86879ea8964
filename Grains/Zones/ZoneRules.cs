using System.Globalization;
using System.Runtime.CompilerServices;

namespace ManagedServers.Grains.Zones;

/// <summary>
/// The rules that span records, applied as Knot 3.2 applies them when it loads a zone file (knot/zone/zonefile.c,
/// node.c, semantic-check.c), over the records sorted in canonical order:
/// <list type="bullet">
/// <item>errors (knotd refuses the zone): no SOA at the apex; a CNAME beside other data (RRSIG and NSEC aside) or two
/// CNAMEs at one owner; two DNAMEs at one owner, a DNAME beside an NS below the apex, any record below a DNAME;</item>
/// <item>warnings (knotd loads the zone): a second SOA at the apex (ignored, the first in the file is kept, as Knot
/// does); an SOA below the apex; no NS at the apex; an in-zone NS target without an address (missing glue); a DS whose
/// digest does not fit its digest type; TTLs that differ within a record set (all get the TTL of the record last in the
/// file, as Knot does; RRSIGs keep theirs).</item>
/// </list>
/// Duplicate records are dropped (RFC 2181 §5: one record).
/// </summary>
internal sealed class ZoneRules(string apex, ZoneRecord[] records, int[] lines, Action<int, string> error, Action<int, string> warn)
{
    private string[] _keys = [];
    private int[] _order = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ZoneRecord[] Check()
    {
        var n = records.Length;
        _keys = new string[n];
        string? prevOwner = null;
        string? prevKey = null;
        for (var i = 0; i < n; i++)
        {
            var owner = records[i].Owner;
            if (!ReferenceEquals(owner, prevOwner))
            {
                prevOwner = owner;
                prevKey = ZoneFileParser.CanonicalKey(owner);
            }

            _keys[i] = prevKey!;
        }

        var comparer = new Order(_keys, records);
        _order = new int[n];
        for (var i = 0; i < n; i++)
        {
            _order[i] = i;
        }

        var sorted = true;
        for (var i = 1; i < n && sorted; i++)
        {
            sorted = comparer.Compare(i - 1, i) <= 0;
        }

        if (!sorted)
        {
            _order.AsSpan().Sort(comparer);
        }

        var result = new List<ZoneRecord>(n);
        var resultLines = new List<int>(n);
        var resultKeys = new List<string>(n);
        var soaLine = 0;
        var apexSoa = -1;
        var nsAtApex = false;
        var k = 0;
        while (k < n)
        {
            // One record set: owner and type.
            var first = _order[k];
            var end = k + 1;
            while (end < n && SameOwner(_order[end], first) && records[_order[end]].Type == records[first].Type)
            {
                end++;
            }

            var type = records[first].Type;
            var ttl = type == RecordTypes.Soa ? 0 : SetTtl(k, end);
            var firstInFile = FirstInFile(k, end);
            for (var j = k; j < end; j++)
            {
                var i = _order[j];
                if (j > k && records[_order[j - 1]].Data == records[i].Data)
                {
                    continue; // a duplicate: RFC 2181 §5 — one record
                }

                if (type == RecordTypes.Soa)
                {
                    if (i != firstInFile)
                    {
                        // Knot keeps the first SOA of the file and ignores the others.
                        warn(lines[i], $"a second SOA record at '{Display(records[i].Owner)}' (the first is on line {lines[firstInFile]}): ignored, as Knot does");
                        continue;
                    }

                    if (records[i].Owner != apex)
                    {
                        if (apexSoa >= 0 && apexSoa < i)
                        {
                            warn(lines[i], $"SOA record '{Display(records[i].Owner)}' is not at the zone apex ({apex}): ignored, as Knot ignores every SOA after the apex's");
                            continue;
                        }

                        warn(lines[i], $"SOA record '{Display(records[i].Owner)}' is not at the zone apex ({apex}): Knot loads it as ordinary data");
                    }
                    else
                    {
                        soaLine = lines[i];
                        apexSoa = i;
                    }

                    ttl = records[i].Ttl;
                }
                else if (type == RecordTypes.Ns && records[i].Owner == apex)
                {
                    nsAtApex = true;
                }

                result.Add(type == RecordTypes.Rrsig ? records[i] : records[i] with { Ttl = ttl });
                resultLines.Add(lines[i]);
                resultKeys.Add(_keys[i]);
            }

            k = end;
        }

        var output = result.ToArray();
        var outLines = resultLines.ToArray();
        CheckOwners(output, outLines);
        if (soaLine == 0)
        {
            error(1, $"no SOA record at the zone apex ({apex})");
        }

        if (!nsAtApex)
        {
            warn(soaLine > 0 ? soaLine : 1, $"no NS record at the zone apex ({apex}): Knot loads the zone but reports it, and resolvers cannot be pointed at its servers");
        }

        CheckGlueAndDs(output, outLines, resultKeys);
        return output;
    }

    private bool SameOwner(int a, int b) => ReferenceEquals(_keys[a], _keys[b]) || _keys[a] == _keys[b];

    private int FirstInFile(int from, int to)
    {
        var best = _order[from];
        for (var j = from + 1; j < to; j++)
        {
            best = Math.Min(best, _order[j]);
        }

        return best;
    }

    /// <summary>The TTL of the set order[from..to): the one of the record last in the file, as Knot does; warns when they differ.</summary>
    private int SetTtl(int from, int to)
    {
        var last = _order[from];
        var differ = false;
        for (var j = from + 1; j < to; j++)
        {
            var i = _order[j];
            last = Math.Max(last, i);
            differ |= records[i].Ttl != records[_order[from]].Ttl;
        }

        var r = records[last];
        if (differ && r.Type is not (RecordTypes.Rrsig or RecordTypes.Soa))
        {
            var other = -1;
            for (var j = from; j < to; j++)
            {
                var i = _order[j];
                if (records[i].Ttl != r.Ttl && (other < 0 || i < other))
                {
                    other = i;
                }
            }

            warn(lines[other], string.Create(CultureInfo.InvariantCulture,
                $"{RecordTypes.Name(r.Type)} record set '{Display(r.Owner)}': TTL {records[other].Ttl} here, {r.Ttl} on line {lines[last]}: a record set has one TTL, Knot uses the last one ({r.Ttl}); stored with {r.Ttl}"));
        }

        return r.Ttl;
    }

    /// <summary>CNAME and DNAME rules per owner, and no record below a DNAME (Knot's mandatory checks).</summary>
    private void CheckOwners(ZoneRecord[] output, int[] outLines)
    {
        string? dname = null;
        var dnameLine = 0;
        var from = 0;
        while (from < output.Length)
        {
            var owner = output[from].Owner;
            var to = from + 1;
            while (to < output.Length && ReferenceEquals(output[to].Owner, owner) | output[to].Owner == owner)
            {
                to++;
            }

            if (dname is not null && !ZoneFileParser.IsAtOrBelow(owner, dname))
            {
                dname = null;
            }

            if (dname is not null && !OnlyNsec3(output, from, to))
            {
                error(outLines[from], $"'{Display(owner)}' is below the DNAME at '{Display(dname)}' (line {dnameLine}): nothing can be below a DNAME (RFC 6672 §2.4)");
            }

            CheckOwner(output, outLines, from, to, ref dname, ref dnameLine);
            from = to;
        }
    }

    private static bool OnlyNsec3(ZoneRecord[] output, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            if (output[i].Type is not (RecordTypes.Nsec3 or RecordTypes.Rrsig))
            {
                return false;
            }
        }

        return true;
    }

    private void CheckOwner(ZoneRecord[] output, int[] outLines, int from, int to, ref string? dname, ref int dnameLine)
    {
        var cnameLine = 0;
        var dnameHere = 0;
        var nsLine = 0;
        var otherLine = 0;
        ushort otherType = 0;
        var owner = output[from].Owner;
        for (var i = from; i < to; i++)
        {
            var type = output[i].Type;
            if (type == RecordTypes.Cname)
            {
                if (cnameLine > 0)
                {
                    error(outLines[i], $"more than one CNAME at '{Display(owner)}' (another on line {cnameLine})");
                }

                cnameLine = cnameLine == 0 ? outLines[i] : cnameLine;
                continue;
            }

            if (type == RecordTypes.Dname)
            {
                if (dnameHere > 0)
                {
                    error(outLines[i], $"more than one DNAME at '{Display(owner)}' (another on line {dnameHere})");
                }

                dnameHere = dnameHere == 0 ? outLines[i] : dnameHere;
            }
            else if (type == RecordTypes.Ns)
            {
                nsLine = nsLine == 0 ? outLines[i] : nsLine;
            }

            if (type is not (RecordTypes.Rrsig or RecordTypes.Nsec) && otherLine == 0)
            {
                otherLine = outLines[i];
                otherType = type;
            }
        }

        if (cnameLine > 0 && otherLine > 0)
        {
            error(cnameLine, $"CNAME '{Display(owner)}' beside other data at the same owner ({RecordTypes.Name(otherType)} on line {otherLine})");
        }

        if (dnameHere > 0)
        {
            if (nsLine > 0 && owner != apex)
            {
                error(dnameHere, $"DNAME '{Display(owner)}' beside an NS record (line {nsLine}): a delegation cannot be a DNAME too (RFC 6672 §2.3)");
            }

            if (dname is null)
            {
                dname = owner;
                dnameLine = dnameHere;
            }
        }
    }

    /// <summary>Knot's glue check (apex and delegations) and its DS check, both warnings: knotd loads such zones.</summary>
    private void CheckGlueAndDs(ZoneRecord[] output, int[] outLines, List<string> outKeys)
    {
        var lookup = new Lookup(apex, output, outKeys);
        Lookup Owners() => lookup;

        for (var i = 0; i < output.Length; i++)
        {
            var r = output[i];
            if (r.Type == RecordTypes.Ns && ZoneFileParser.IsAtOrBelow(r.Data, apex) && (r.Owner == apex || !Owners().IsBelowCut(r.Owner, apex)))
            {
                if (HasAddressOrIsElsewhere(Owners(), r.Owner, r.Data))
                {
                    continue;
                }

                var target = r.Data;

                warn(outLines[i], $"NS record '{Display(r.Owner)}': its name server {target} is inside the zone but has no A or AAAA record (missing glue): Knot loads the zone, its optional checks (kzonecheck) report it");
            }
            else if (r.Type == RecordTypes.Ds)
            {
                var fields = r.Data.Split(' ');
                if (fields.Length == 4 && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var digestType))
                {
                    var expected = digestType switch { 1 => 20, 2 => 32, 4 => 48, _ => 0 };
                    if (expected == 0)
                    {
                        warn(outLines[i], $"DS record '{Display(r.Owner)}': digest type {digestType} is not one Knot checks (1, 2 or 4): its optional checks (kzonecheck) report it");
                    }
                    else if (fields[3].Length != expected * 2)
                    {
                        warn(outLines[i], $"DS record '{Display(r.Owner)}': digest type {digestType} needs {expected} octets of digest ({expected * 2} hex digits), got {fields[3].Length / 2}: its optional checks (kzonecheck) report it");
                    }
                }
            }
        }
    }

    /// <summary>Whether Knot finds an address for an in-zone NS target, or skips it (below another delegation).</summary>
    private static bool HasAddressOrIsElsewhere(Lookup lookup, string nsOwner, string target)
    {
        if (lookup.Find(target) is { } node)
        {
            return lookup.HasAddress(node);
        }

        // Not there: its closest encloser decides (Knot: below another delegation → not checked; else the wildcard there).
        var encloser = target;
        while (!lookup.Exists(encloser))
        {
            encloser = Parent(encloser);
        }

        if (encloser != nsOwner && (lookup.IsCut(encloser) || lookup.IsBelowCut(encloser, null)))
        {
            return true;
        }

        return lookup.Find(encloser == "." ? "*." : "*." + encloser) is { } wildcard && lookup.HasAddress(wildcard);
    }

    /// <summary>The parent of a canonical absolute name ("." for a top-level name).</summary>
    internal static string Parent(string name)
    {
        for (var i = 0; i < name.Length - 1; i++)
        {
            if (name[i] == '\\')
            {
                i += char.IsAsciiDigit(name[i + 1]) ? 3 : 1;
                continue;
            }

            if (name[i] == '.')
            {
                return name[(i + 1)..];
            }
        }

        return ".";
    }

    private string Display(string owner) =>
        owner == apex ? "@"
        : apex == "." ? owner
        : ZoneFileParser.IsAtOrBelow(owner, apex) ? owner[..^(apex.Length + 1)] : owner;

    /// <summary>Owner lookups over the sorted records by their canonical keys (binary search; <paramref name="keys"/>[i] is record i's).</summary>
    private sealed class Lookup(string apex, ZoneRecord[] output, List<string> keys)
    {
        private readonly string _apex = apex;

        /// <summary>The first record of <paramref name="name"/>, or null.</summary>
        public int? Find(string name)
        {
            var key = ZoneFileParser.CanonicalKey(name);
            var at = LowerBound(key);
            return at < keys.Count && keys[at] == key ? at : null;
        }

        /// <summary>The name holds records, or names below it do (an empty non-terminal).</summary>
        public bool Exists(string name)
        {
            if (name == ".")
            {
                return true;
            }

            var key = ZoneFileParser.CanonicalKey(name);
            var at = LowerBound(key);
            return at < keys.Count && (keys[at] == key || (keys[at].Length > key.Length && keys[at].StartsWith(key, StringComparison.Ordinal) && keys[at][key.Length] == '\0'));
        }

        public bool HasAddress(int first) => HasType(first, RecordTypes.A) || HasType(first, RecordTypes.Aaaa);

        /// <summary>A delegation: NS at a name other than the apex.</summary>
        public bool IsCut(string name) => name != _apex && Find(name) is { } first && HasType(first, RecordTypes.Ns);

        /// <summary>Strictly below a delegation (up to <paramref name="apex"/>, or the zone's apex when null).</summary>
        public bool IsBelowCut(string name, string? apex)
        {
            apex ??= _apex;
            var up = name;
            while (up != apex && up != ".")
            {
                up = Parent(up);
                if (up != apex && IsCut(up))
                {
                    return true;
                }
            }

            return false;
        }

        private bool HasType(int first, ushort type)
        {
            for (var i = first; i < output.Length && ReferenceEquals(output[i].Owner, output[first].Owner) | output[i].Owner == output[first].Owner; i++)
            {
                if (output[i].Type == type)
                {
                    return true;
                }
            }

            return false;
        }

        private int LowerBound(string key)
        {
            int lo = 0, hi = keys.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (string.CompareOrdinal(keys[mid], key) < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }
    }

    /// <summary>Canonical order: owner (RFC 4034), then type code, then data (ordinal), then file order.</summary>
    private readonly struct Order(string[] keys, ZoneRecord[] records) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            if (x == y)
            {
                return 0;
            }

            var kx = keys[x];
            var ky = keys[y];
            var c = ReferenceEquals(kx, ky) ? 0 : string.CompareOrdinal(kx, ky);
            if (c != 0)
            {
                return c;
            }

            c = records[x].Type.CompareTo(records[y].Type);
            if (c != 0)
            {
                return c;
            }

            c = string.CompareOrdinal(records[x].Data, records[y].Data);
            return c != 0 ? c : x.CompareTo(y);
        }
    }
}
