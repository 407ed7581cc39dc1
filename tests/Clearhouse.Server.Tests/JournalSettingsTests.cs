using Clearhouse.Journal;
using Microsoft.Extensions.Configuration;

namespace Clearhouse.Server.Tests;

/// <summary>The journal's commit settings (docs/durability.md, "fsync or fdatasync" and "Preallocation") are read strictly.</summary>
public sealed class JournalSettingsTests
{
    private static ServerOptions Parse(params string[] args) =>
        ServerOptions.From(new ConfigurationBuilder().AddCommandLine(args).Build());

    [Fact]
    public void By_default_commits_use_fdatasync_over_a_megabyte_of_preallocated_zeros()
    {
        var options = Parse();
        Assert.Equal(JournalSync.DataSync, options.JournalSync);
        Assert.Equal(1024 * 1024, options.JournalPreallocateBytes);
    }

    [Theory]
    [InlineData("fsync", JournalSync.Fsync)]
    [InlineData("fdatasync", JournalSync.DataSync)]
    [InlineData(" FSYNC ", JournalSync.Fsync)]
    public void The_sync_call_can_be_chosen(string text, JournalSync expected) =>
        Assert.Equal(expected, Parse("--JournalSync", text).JournalSync);

    [Theory]
    [InlineData("--JournalSync", "osync")]
    [InlineData("--JournalSync", "")]
    [InlineData("--JournalPreallocateBytes", "-1")]
    [InlineData("--JournalPreallocateBytes", "1MiB")]
    [InlineData("--JournalPreallocateBytes", "67108865")]
    [InlineData("--IdleSpinMicros", "-1")]
    [InlineData("--IdleSpinMicros", "10001")]
    [InlineData("--IdleSpinMicros", "50us")]
    [InlineData("--ApplyInline", "maybe")]
    [InlineData("--AnswerInlineBatch", "-1")]
    [InlineData("--AnswerInlineBatch", "4097")]
    public void A_setting_that_is_not_understood_stops_the_start_with_its_name(string key, string value)
    {
        var error = Assert.Throws<ServerConfigurationException>(() => Parse(key, value));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Preallocation_can_be_turned_off() =>
        Assert.Equal(0, Parse("--JournalPreallocateBytes", "0").JournalPreallocateBytes);

    [Fact]
    public void Idle_spinning_follows_the_cores_unless_set()
    {
        Assert.Equal(Environment.ProcessorCount >= 4 ? 50 : 0, Parse().IdleSpinMicros);
        Assert.Equal(0, Parse("--IdleSpinMicros", "0").IdleSpinMicros);
        Assert.Equal(200, Parse("--IdleSpinMicros", "200").IdleSpinMicros);
        Assert.Equal(TimeSpan.FromMicroseconds(200), Sequencing.SequencerOptions.From(Parse("--IdleSpinMicros", "200")).IdleSpin);
    }

    [Fact]
    public void Callers_apply_inline_when_the_engine_thread_sleeps_unless_turned_off()
    {
        Assert.True(Parse().ApplyInline);
        Assert.True(Sequencing.SequencerOptions.From(Parse()).ApplyInline);
        Assert.False(Sequencing.SequencerOptions.From(Parse("--ApplyInline", "false")).ApplyInline);
    }

    [Fact]
    public void The_flusher_answers_batches_of_up_to_8_itself_unless_set()
    {
        Assert.Equal(8, Parse().AnswerInlineBatch);
        Assert.Equal(0, Parse("--AnswerInlineBatch", "0").AnswerInlineBatch);
        Assert.Equal(64, Parse("--AnswerInlineBatch", "64").AnswerInlineBatch);
    }
}
