using ManagedServers.Grains.Servers;
using Microsoft.Extensions.Time.Testing;

namespace ManagedServers.Grains.Tests;

public sealed class HeartbeatTrackerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private static Heartbeat Beat(Guid boot, long sequence, bool stopping = false) =>
        new("srv-1", Guid.NewGuid(), boot, sequence, DateTimeOffset.UtcNow, "1.0", 10, "host", "Debian", stopping);

    [Fact]
    public void First_heartbeat_moves_pending_to_running()
    {
        var tracker = new HeartbeatTracker(_time);
        Assert.Equal(HeartbeatOutcome.StateChanged, tracker.Observe(Beat(Guid.NewGuid(), 1)));
        Assert.Equal(ServerState.Running, tracker.State);
        Assert.Equal(_time.GetUtcNow(), tracker.LastHeartbeat);
    }

    [Fact]
    public void Duplicate_and_stale_heartbeats_are_ignored_but_a_new_boot_is_accepted()
    {
        var tracker = new HeartbeatTracker(_time);
        var boot = Guid.NewGuid();
        tracker.Observe(Beat(boot, 5));
        Assert.Equal(HeartbeatOutcome.Ignored, tracker.Observe(Beat(boot, 5)));
        Assert.Equal(HeartbeatOutcome.Ignored, tracker.Observe(Beat(boot, 4)));
        Assert.Equal(HeartbeatOutcome.Accepted, tracker.Observe(Beat(boot, 6)));
        Assert.Equal(HeartbeatOutcome.Accepted, tracker.Observe(Beat(Guid.NewGuid(), 1)));
        Assert.Equal(1, tracker.Sequence);
    }

    [Fact]
    public void Stopping_heartbeat_means_stopped_and_no_timeout_applies()
    {
        var tracker = new HeartbeatTracker(_time);
        var boot = Guid.NewGuid();
        tracker.Observe(Beat(boot, 1));
        Assert.Equal(HeartbeatOutcome.StateChanged, tracker.Observe(Beat(boot, 2, stopping: true)));
        Assert.Equal(ServerState.Stopped, tracker.State);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.False(tracker.CheckTimeout(Timeout));
        Assert.Equal(ServerState.Stopped, tracker.State);
    }

    [Fact]
    public void Running_becomes_unreachable_only_after_the_timeout()
    {
        var tracker = new HeartbeatTracker(_time);
        tracker.Observe(Beat(Guid.NewGuid(), 1));
        _time.Advance(Timeout);
        Assert.False(tracker.CheckTimeout(Timeout));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(tracker.CheckTimeout(Timeout));
        Assert.Equal(ServerState.Unreachable, tracker.State);
        Assert.False(tracker.CheckTimeout(Timeout));
    }

    [Fact]
    public void Unreachable_server_comes_back_on_a_heartbeat()
    {
        var tracker = new HeartbeatTracker(_time);
        var boot = Guid.NewGuid();
        tracker.Observe(Beat(boot, 1));
        _time.Advance(Timeout * 2);
        tracker.CheckTimeout(Timeout);
        Assert.Equal(HeartbeatOutcome.StateChanged, tracker.Observe(Beat(boot, 2)));
        Assert.Equal(ServerState.Running, tracker.State);
    }

    [Fact]
    public void A_restored_tracker_gives_a_grace_period_from_activation()
    {
        var tracker = new HeartbeatTracker(_time);
        var lastBeat = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(10));
        tracker.Restore(ServerState.Running, lastBeat, lastBeat, Guid.NewGuid(), 7);
        Assert.False(tracker.CheckTimeout(Timeout));
        Assert.Equal(_time.GetUtcNow() + Timeout, tracker.Deadline(Timeout));
        _time.Advance(Timeout + TimeSpan.FromSeconds(1));
        Assert.True(tracker.CheckTimeout(Timeout));
    }
}

public sealed class RequestCounterTests
{
    [Fact]
    public void Counts_only_the_last_two_minutes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var counter = new RequestCounter(time);
        for (var i = 0; i < 5; i++)
        {
            counter.Add();
        }

        time.Advance(TimeSpan.FromSeconds(61));
        counter.Add();
        Assert.Equal(6, counter.Count());
        time.Advance(TimeSpan.FromSeconds(70));
        Assert.Equal(1, counter.Count());
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, counter.Count());
    }
}
