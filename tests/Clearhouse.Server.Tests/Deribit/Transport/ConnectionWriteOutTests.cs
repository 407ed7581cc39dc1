using System.Net;
using System.Text;
using System.Threading.Channels;
using Clearhouse.Server.Deribit.Transport;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Tests.Deribit.Transport;

/// <summary>
/// A connection has no writer thread: whoever queues a message writes the queue out when no write is
/// in progress (<see cref="DeribitConnection"/>), and inside an <see cref="AnswerBatch"/> the write
/// waits for the end of the batch. These tests drive it with a recording transport instead of a
/// socket: every message is written exactly once, in the order it was queued, by one writer at a
/// time, and nothing is lost when a write has to wait.
/// </summary>
public sealed class ConnectionWriteOutTests
{
    [Fact]
    public void A_message_queued_outside_a_batch_is_written_at_once_on_the_senders_thread()
    {
        var transport = new RecordingTransport();
        var connection = transport.Attach();

        Assert.True(connection.TrySend(Message(1)));

        Assert.Equal([1], transport.Written);
        Assert.Equal(1, transport.Writes);
    }

    [Fact]
    public void A_copied_message_keeps_its_bytes_when_the_caller_reuses_its_buffer()
    {
        var connection = new DeribitConnection(IPAddress.Loopback); // no transport: messages stay queued
        byte[] scratch = Encoding.ASCII.GetBytes("41");
        Assert.True(connection.TrySendCopy(scratch));
        scratch[1] = (byte)'2';
        Assert.True(connection.TrySendCopy(scratch));

        Assert.True(connection.Outbound.TryRead(out var first));
        Assert.True(connection.Outbound.TryRead(out var second));
        Assert.Equal(("41", "42"), (Encoding.ASCII.GetString(first.Bytes.Span), Encoding.ASCII.GetString(second.Bytes.Span)));
        Assert.True(first.Rented && first.Buffer != scratch);

        connection.MarkClosed();
        Assert.False(connection.TrySendCopy(scratch)); // refused once closed (its rented buffer goes back)
    }

    [Fact]
    public void Messages_queued_inside_an_answer_batch_go_out_in_one_write_at_its_end()
    {
        var transport = new RecordingTransport();
        var connection = transport.Attach();
        var other = new RecordingTransport();
        var otherConnection = other.Attach();
        int writtenInside = -1;

        AnswerBatch.Run(_ =>
        {
            for (int i = 1; i <= 20; i++)
            {
                Assert.True(connection.TrySend(Message(i)));
                Assert.True(otherConnection.TrySend(Message(100 + i)));
            }

            writtenInside = transport.Written.Count + other.Written.Count;
        }, 0);

        Assert.Equal(0, writtenInside);
        Assert.Equal(Enumerable.Range(1, 20), transport.Written);
        Assert.Equal(Enumerable.Range(101, 20), other.Written);
        Assert.Equal(1, transport.Writes);
        Assert.Equal(1, other.Writes);
    }

    [Fact]
    public async Task Concurrent_senders_and_a_slow_transport_lose_nothing_and_keep_each_senders_order()
    {
        for (int round = 0; round < 20; round++)
        {
            var transport = new RecordingTransport { YieldEvery = 3 };
            var connection = transport.Attach();
            const int senders = 4;
            const int perSender = 2_000;
            var start = new Barrier(senders);
            var tasks = Enumerable.Range(0, senders).Select(s => Task.Run(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < perSender; i++)
                {
                    int id = (s * perSender) + i;
                    if (i % 7 == 0)
                    {
                        AnswerBatch.Run(static state => Assert.True(state.connection.TrySend(Message(state.id))), (connection, id));
                    }
                    else
                    {
                        Assert.True(connection.TrySend(Message(id)));
                    }
                }
            })).ToArray();
            await Task.WhenAll(tasks);
            connection.MarkClosed();
            await connection.Drained.WaitAsync(TimeSpan.FromSeconds(10));

            var written = transport.Written.ToArray();
            Assert.Equal(senders * perSender, written.Length);
            Assert.Equal(senders * perSender, written.Distinct().Count());
            for (int s = 0; s < senders; s++)
            {
                var own = written.Where(id => id / perSender == s).ToArray();
                Assert.Equal(own.Order(), own); // each sender's messages in the order it queued them
            }

            Assert.Equal(0, transport.OverlappingWrites);
        }
    }

    [Fact]
    public async Task Drained_completes_after_what_was_queued_before_the_close_is_written()
    {
        var transport = new RecordingTransport { YieldEvery = 1 };
        var connection = transport.Attach();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(connection.TrySend(Message(i)));
        }

        connection.MarkClosed();
        await connection.Drained.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Enumerable.Range(0, 100), transport.Written);
        Assert.False(connection.TrySend(Message(100)));
    }

    [Fact]
    public async Task A_failing_transport_closes_the_connection_and_completes_Drained()
    {
        var transport = new RecordingTransport { FailAfter = 5 };
        var connection = transport.Attach();
        for (int i = 0; i < 10; i++)
        {
            connection.TrySend(Message(i));
        }

        await connection.Drained.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(connection.IsClosed);
        Assert.Equal("the connection failed while sending", connection.CloseReason);
    }

    private static byte[] Message(int id) => Encoding.ASCII.GetBytes(id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Stands in for the socket: records what it is given, can yield (a write that waits) or fail, and counts overlapping calls.</summary>
    private sealed class RecordingTransport
    {
        private int inside;
        private int calls;

        public List<int> Written { get; } = [];

        public int Writes { get; private set; }

        public int OverlappingWrites { get; private set; }

        public int YieldEvery { get; init; }

        public int FailAfter { get; init; } = int.MaxValue;

        public DeribitConnection Attach()
        {
            var connection = new DeribitConnection(IPAddress.Loopback);
            connection.AttachWriter(WriteAsync);
            return connection;
        }

        private async ValueTask WriteAsync(ChannelReader<OutboundMessage> reader)
        {
            if (Interlocked.Exchange(ref inside, 1) != 0)
            {
                OverlappingWrites++;
            }

            try
            {
                Writes++;
                int taken = 0;
                while (taken < 64 && reader.TryRead(out var message))
                {
                    if (Written.Count >= FailAfter)
                    {
                        throw new IOException("the client went away");
                    }

                    Written.Add(int.Parse(Encoding.ASCII.GetString(message.Bytes.Span), System.Globalization.CultureInfo.InvariantCulture));
                    message.Release();
                    taken++;
                }

                if (YieldEvery > 0 && Interlocked.Increment(ref calls) % YieldEvery == 0)
                {
                    await Task.Yield(); // the socket was full: the rest continues on another thread
                }
            }
            finally
            {
                Volatile.Write(ref inside, 0);
            }
        }
    }
}
