using System.Buffers;
using System.Text.Json;

using ManagedServers.Grains.Interfaces.Monitoring;

namespace ManagedServers.Grains.Monitoring;

/// <summary>
/// Row payloads of the metrics tables, as compact JSON: a raw sample is <c>{"cpu.load1":0.5,…}</c>, an
/// aggregate bucket <c>{"cpu.load1":[min,max,sum,last,count],…}</c>. JSON keeps rows readable with
/// plain SQL (and PostgreSQL's jsonb operators) at about 30 bytes per metric.
/// </summary>
public static class MetricsCodec
{
    public static byte[] EncodeValues(IReadOnlyDictionary<string, double> values)
    {
        var buffer = new ArrayBufferWriter<byte>(values.Count * 32 + 2);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in values)
            {
                if (double.IsFinite(value))
                {
                    writer.WriteNumber(name, value);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static Dictionary<string, double> DecodeValues(ReadOnlySpan<byte> json)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            result[name] = reader.GetDouble();
        }

        return result;
    }

    public static byte[] EncodeAggregates(IReadOnlyDictionary<string, MetricAggregate> metrics)
    {
        var buffer = new ArrayBufferWriter<byte>(metrics.Count * 64 + 2);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, a) in metrics)
            {
                writer.WriteStartArray(name);
                writer.WriteNumberValue(a.Min);
                writer.WriteNumberValue(a.Max);
                writer.WriteNumberValue(a.Sum);
                writer.WriteNumberValue(a.Last);
                writer.WriteNumberValue(a.Count);
                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static Dictionary<string, MetricAggregate> DecodeAggregates(ReadOnlySpan<byte> json)
    {
        var result = new Dictionary<string, MetricAggregate>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json);
        Span<double> v = stackalloc double[5];
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read(); // [
            for (var i = 0; i < 5; i++)
            {
                reader.Read();
                v[i] = reader.GetDouble();
            }

            reader.Read(); // ]
            result[name] = new MetricAggregate(v[0], v[1], v[2], v[3], (int)v[4]);
        }

        return result;
    }
}
