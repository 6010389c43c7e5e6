using TimeFusion.Engine;

namespace TimeFusion.Tests.Engine;

public class LsnSequencerTests
{
    [Fact]
    public async Task Applies_concurrently_completed_lsns_in_order()
    {
        var sequencer = new LsnSequencer(appliedThrough: 10);
        var order = new List<long>();
        // LSNs arrive in a scrambled order, as concurrent WAL acknowledgements do.
        var lsns = Enumerable.Range(11, 200).Select(i => (long)i).OrderBy(_ => Random.Shared.Next()).ToList();
        await Task.WhenAll(lsns.Select(lsn => Task.Run(async () =>
        {
            await sequencer.WaitTurnAsync(lsn);
            lock (order) order.Add(lsn);
            sequencer.Complete(lsn);
        })));
        Assert.Equal(Enumerable.Range(11, 200).Select(i => (long)i), order);
        Assert.Equal(210, sequencer.AppliedThrough);
    }

    [Fact]
    public async Task A_later_lsn_waits_until_the_earlier_one_completes()
    {
        var sequencer = new LsnSequencer(0);
        var second = sequencer.WaitTurnAsync(2);
        Assert.False(second.IsCompleted);
        await sequencer.WaitTurnAsync(1);
        Assert.Equal(0, sequencer.AppliedThrough);
        sequencer.Complete(1);
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, sequencer.AppliedThrough);
    }

    [Fact]
    public void Out_of_turn_or_repeated_lsns_are_refused()
    {
        var sequencer = new LsnSequencer(5);
        Assert.Throws<InvalidOperationException>(() => sequencer.Complete(7));
        Assert.Throws<InvalidOperationException>(() => { _ = sequencer.WaitTurnAsync(5); });
    }

    [Fact]
    public async Task The_writer_whose_turn_it_is_takes_the_queued_payload_waiters_up_to_one_without_a_payload()
    {
        var sequencer = new LsnSequencer(0);
        var w2 = sequencer.WaitTurnAsync(2, "b");
        var w3 = sequencer.WaitTurnAsync(3, "c");
        var w4 = sequencer.WaitTurnAsync(4); // e.g. a DML: never taken, it applies itself
        var w5 = sequencer.WaitTurnAsync(5, "e");
        Assert.True(await sequencer.WaitTurnAsync(1, "a"));
        var taken = sequencer.TakeSuccessors(1, _ => true);
        Assert.Equal([(2L, (object)"b"), (3L, "c")], taken);
        Assert.False(w2.IsCompleted);
        sequencer.CompleteGroup(1, 3, null);
        Assert.False(await w2);
        Assert.False(await w3);
        await w4; // its turn
        Assert.False(w5.IsCompleted);
        Assert.Equal(3, sequencer.AppliedThrough);
        sequencer.Complete(4);
        Assert.True(await w5);
        Assert.Empty(sequencer.TakeSuccessors(5, _ => true));
        sequencer.Complete(5);
        Assert.Equal(5, sequencer.AppliedThrough);
    }

    [Fact]
    public async Task A_failed_group_faults_the_taken_waiters_and_the_next_one_still_gets_its_turn()
    {
        var sequencer = new LsnSequencer(0);
        var w2 = sequencer.WaitTurnAsync(2, "b");
        var w3 = sequencer.WaitTurnAsync(3, "c");
        Assert.True(await sequencer.WaitTurnAsync(1, "a"));
        // The take predicate can stop early (a row budget): only LSN 2 is taken.
        var budget = 1;
        Assert.Single(sequencer.TakeSuccessors(1, _ => budget-- > 0));
        sequencer.CompleteGroup(1, 2, new InvalidOperationException("boom"));
        Assert.Equal("boom", (await Assert.ThrowsAsync<InvalidOperationException>(() => w2)).Message);
        Assert.True(await w3);
        Assert.Equal(2, sequencer.AppliedThrough);
        Assert.Throws<InvalidOperationException>(() => sequencer.CompleteGroup(3, 4, null)); // 4 was never taken
    }
}
