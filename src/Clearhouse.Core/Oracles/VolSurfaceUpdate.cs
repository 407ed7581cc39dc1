using System.Buffers;
using Clearhouse.Core.Pricing;
using Clearhouse.Core.Serialization;
using NSec.Cryptography;

namespace Clearhouse.Core.Oracles;

/// <summary>
/// A volatility surface published as a signed oracle update: the SVI parameters of every expiry
/// of one underlying, signed (Ed25519) by one of that underlying's registered reporters. The
/// signed message is the canonical encoding of the tag, the reporter id and every parameter, so
/// the integers the engine decodes are exactly the ones signed, and option marks become
/// deterministic inputs.
/// </summary>
public sealed record VolSurfaceUpdate(VolSurfaceParameters Parameters, int ReporterId, byte[] Signature)
{
    public const string Tag = "clearhouse/vol-surface/v1";

    public byte[] SignedMessage() => Message(Parameters, ReporterId);

    public static byte[] Message(VolSurfaceParameters parameters, int reporterId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var w = new CanonicalWriter(buffer);
        w.String(Tag);
        w.Int(reporterId);
        WriteParameters(w, parameters);
        return buffer.WrittenSpan.ToArray();
    }

    public bool HasValidSignature(ReadOnlySpan<byte> reporterPublicKey)
    {
        if (Signature is not { Length: PriceReport.SignatureSize } || reporterPublicKey.Length != PriceReport.PublicKeySize)
        {
            return false;
        }

        return PublicKey.TryImport(SignatureAlgorithm.Ed25519, reporterPublicKey, KeyBlobFormat.RawPublicKey, out var key)
            && key is not null
            && SignatureAlgorithm.Ed25519.Verify(key, SignedMessage(), Signature);
    }

    public static VolSurfaceUpdate Sign(Key privateKey, VolSurfaceParameters parameters, int reporterId) =>
        new(parameters, reporterId, SignatureAlgorithm.Ed25519.Sign(privateKey, Message(parameters, reporterId)));

    internal static void WriteParameters(CanonicalWriter w, VolSurfaceParameters p)
    {
        w.String(p.Underlying);
        w.Long(p.PublishedMicros);
        w.Int(p.Slices.IsDefault ? 0 : p.Slices.Length);
        if (p.Slices.IsDefault)
        {
            return;
        }

        foreach (var s in p.Slices)
        {
            w.Long(s.ExpiryMicros);
            w.Long(s.APpb);
            w.Long(s.BPpb);
            w.Long(s.RhoPpb);
            w.Long(s.MPpb);
            w.Long(s.SigmaPpb);
        }
    }

    internal static VolSurfaceParameters ReadParameters(ref CanonicalReader r)
    {
        string underlying = r.RequiredString();
        long published = r.Long();
        int count = r.Int();
        if (count is < 0 or > 256)
        {
            throw new FormatException($"Invalid slice count {count}.");
        }

        var slices = System.Collections.Immutable.ImmutableArray.CreateBuilder<SviSliceParameters>(count);
        for (int i = 0; i < count; i++)
        {
            slices.Add(new SviSliceParameters(r.Long(), r.Long(), r.Long(), r.Long(), r.Long(), r.Long()));
        }

        return new VolSurfaceParameters(underlying, published, slices.MoveToImmutable());
    }
}
