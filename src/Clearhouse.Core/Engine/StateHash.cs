using System.Buffers;
using System.Security.Cryptography;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Engine;

/// <summary>
/// SHA-256 over the canonical encoding of the whole engine state — which is exactly the snapshot
/// (<see cref="EngineSnapshot"/>), so there is one canonical form to maintain. Canonical means:
/// fixed-width little-endian integers, length-prefixed UTF-8 strings, and every collection walked
/// in an order that depends only on the state (ids ascending, books in priority order), never on
/// hash-table iteration. Two engines that applied the same commands produce the same bytes on any
/// machine. The snapshot's version tag is part of the hash, so a change of encoding is visible.
/// </summary>
public static class StateHash
{
    internal static byte[] Compute(Engine engine)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        EngineSnapshot.Write(engine, buffer);
        return SHA256.HashData(buffer.WrittenSpan);
    }
}
