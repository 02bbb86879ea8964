using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Monitoring;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace ManagedServers.Agent.Tests.Monitoring;

/// <summary>The telemetry pipeline's send loop, over the real spool, with a scripted sender.</summary>
public sealed class TelemetryShipperTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_failed_batch_is_retried_with_the_same_id_then_removed_and_new_items_wake_the_loop()
    {
        using var temp = new TempDir();
        var time = new FakeTimeProvider(T0);
        var spool = new TelemetrySpool<SystemSample>(TelemetryPipelines.System.Spool, temp.Combine("spool"));
        for (var i = 0; i < 3; i++)
        {
            spool.Append(Sample(i));
        }

        var sender = new ScriptedSender<MetricsBatch>(SendOutcome.Failed);
        using var shipper = Shipper(TelemetryPipelines.System, spool, sender, temp, time, pull: false);
        await shipper.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => sender.Sent.Count == 1, "the first attempt");
            Assert.Equal(3, spool.Count); // failed: nothing removed
            await Eventually.TrueAsync(
                () =>
                {
                    time.Advance(TimeSpan.FromSeconds(1)); // the backoff's clock (advanced in steps: its delay may not be set yet)
                    return sender.Sent.Count == 2 && spool.Count == 0;
                },
                "the retry accepted and the spool emptied");
            var first = sender.Sent.ToArray();
            Assert.Equal(first[0].BatchId, first[1].BatchId); // the same batch, not rebuilt
            Assert.Equal([T0, T0.AddSeconds(1), T0.AddSeconds(2)], first[1].Samples.Select(s => s.Time));
            Assert.Equal("srv-1", first[1].ServerId);

            spool.Append(Sample(3)); // wakes the loop: no polling
            await Eventually.TrueAsync(() => sender.Sent.Count == 3 && spool.Count == 0, "the new sample sent");
            var third = sender.Sent.ToArray()[2];
            Assert.NotEqual(first[0].BatchId, third.BatchId);
            Assert.Equal(T0.AddSeconds(3), Assert.Single(third.Samples).Time);
        }
        finally
        {
            await shipper.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_refused_batch_is_dropped_and_a_backfill_goes_out_in_batches_of_the_pipeline_size()
    {
        using var temp = new TempDir();
        var spool = new TelemetrySpool<SystemSample>(TelemetryPipelines.System.Spool, temp.Combine("spool"));
        var count = TelemetryPipelines.System.BatchSize + 10;
        for (var i = 0; i < count; i++)
        {
            spool.Append(Sample(i));
        }

        var sender = new ScriptedSender<MetricsBatch>(SendOutcome.Refused);
        using var shipper = Shipper(TelemetryPipelines.System, spool, sender, temp, TimeProvider.System, pull: false);
        await shipper.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => sender.Sent.Count == 2 && spool.Count == 0, "two batches, the first refused");
            var sent = sender.Sent.ToArray();
            Assert.Equal(TelemetryPipelines.System.BatchSize, sent[0].Samples.Count);
            Assert.Equal(10, sent[1].Samples.Count);
        }
        finally
        {
            await shipper.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Dns_intervals_of_the_earlier_spool_are_taken_over_and_each_goes_out_as_its_own_batch()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("state", TelemetryPipelines.Dns.Spool.DirectoryName);
        Directory.CreateDirectory(dir);
        var intervals = Enumerable.Range(0, 3).Select(i => Interval(T0.AddMinutes(i))).ToList();
        foreach (var interval in intervals.AsEnumerable().Reverse())
        {
            // The earlier DNS spool's scheme: {interval start unix-ms:D16}.json, and a dropped count without a newline.
            File.WriteAllBytes(
                Path.Combine(dir, interval.IntervalStart.ToUnixTimeMilliseconds().ToString("D16", CultureInfo.InvariantCulture) + ".json"),
                JsonSerializer.SerializeToUtf8Bytes(interval, ContractsJson.Default.DnsMetricsBatch));
        }

        File.WriteAllText(Path.Combine(dir, TelemetrySpool<DnsMetricsBatch>.DroppedTotalFileName), "3");

        var spool = new TelemetrySpool<DnsMetricsBatch>(TelemetryPipelines.Dns.Spool, dir);
        Assert.Equal(3, spool.Count);
        Assert.Equal(3, spool.DroppedTotal);
        Assert.Equal(0, spool.CorruptTotal);
        Assert.All(Directory.GetFiles(dir, "*.json"), f => Assert.Contains('-', Path.GetFileName(f)));

        var sender = new ScriptedSender<DnsMetricsBatch>();
        using var shipper = Shipper(TelemetryPipelines.Dns, spool, sender, temp, TimeProvider.System, pull: false);
        await shipper.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => sender.Sent.Count == 3 && spool.Count == 0, "three intervals sent");
            Assert.Equal(intervals.Select(i => i.BatchId), sender.Sent.Select(b => b.BatchId));
            Assert.Empty(Directory.GetFiles(dir, "*.json"));
        }
        finally
        {
            await shipper.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task In_pull_mode_nothing_is_pushed()
    {
        using var temp = new TempDir();
        var spool = new TelemetrySpool<SystemSample>(TelemetryPipelines.System.Spool, temp.Combine("spool"));
        spool.Append(Sample(0));
        var sender = new ScriptedSender<MetricsBatch>();
        using var shipper = Shipper(TelemetryPipelines.System, spool, sender, temp, TimeProvider.System, pull: true);
        await shipper.StartAsync(CancellationToken.None);
        spool.Append(Sample(1));
        await Task.Delay(300);
        await shipper.StopAsync(CancellationToken.None);

        Assert.Empty(sender.Sent);
        Assert.Equal(2, spool.Count);
    }

    private static TelemetryShipper<TItem, TBatch> Shipper<TItem, TBatch>(
        TelemetryPipeline<TItem, TBatch> pipeline, TelemetrySpool<TItem> spool, ITelemetrySender<TBatch> sender, TempDir temp, TimeProvider time, bool pull)
        where TItem : class
    {
        var state = new StateDirectory(temp.Combine("agent-state"));
        var settings = new AgentRuntimeSettings(new AgentSettings("srv-1", "dns-1", "https://127.0.0.1:1", 30), state);
        var options = new AgentRunOptions { StateDir = state.Path, PullListen = pull ? new IPEndPoint(IPAddress.Loopback, 0) : null };
        return new TelemetryShipper<TItem, TBatch>(pipeline, spool, sender, settings, options, time, LoggerFactory.Create(_ => { }).CreateLogger<TelemetryShipper<TItem, TBatch>>());
    }

    private static SystemSample Sample(int seconds) =>
        new(T0.AddSeconds(seconds), new Dictionary<string, double> { [SystemMetricNames.Load1] = seconds });

    private static DnsMetricsBatch Interval(DateTimeOffset start) =>
        new("srv-1", Guid.NewGuid(), start, start.AddMinutes(1), new Dictionary<string, long> { ["request-protocol[udp4]"] = 5 },
            new Dictionary<string, IReadOnlyDictionary<string, long>>(), [], new Dictionary<string, long>(), 5, 0, 0, 0);

    /// <summary>Answers with the given outcomes in turn, then accepts; records every batch it was handed.</summary>
    private sealed class ScriptedSender<TBatch>(params SendOutcome[] outcomes) : ITelemetrySender<TBatch>
    {
        private readonly ConcurrentQueue<SendOutcome> _outcomes = new(outcomes);

        public ConcurrentQueue<TBatch> Sent { get; } = new();

        public Task<(SendOutcome Outcome, string? Error)> SendAsync(TBatch batch, CancellationToken cancellationToken)
        {
            Sent.Enqueue(batch);
            var outcome = _outcomes.TryDequeue(out var next) ? next : SendOutcome.Accepted;
            return Task.FromResult<(SendOutcome, string?)>((outcome, outcome == SendOutcome.Accepted ? null : "scripted"));
        }
    }
}
