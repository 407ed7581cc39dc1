using System.Buffers;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;
using NSec.Cryptography;

namespace Clearhouse.Core.Oracles;

/// <summary>
/// One reporter's signed statement of an underlying's price at a moment. The signature is
/// Ed25519 over <see cref="SignedMessage"/>: a tag, the underlying, the price in micro-USDC, the
/// publish time (Unix µs) and the reporter id, in the canonical encoding. Binding the reporter id
/// and the underlying into the message stops a report being replayed under another identity or
/// for another market; the publish time, which must increase per reporter, stops it being replayed
/// at all.
/// </summary>
/// <remarks>
/// Ed25519 rather than secp256k1: deterministic signatures with no per-signature nonce to get
/// wrong, small keys (32 bytes) and signatures (64 bytes), fast verification, and a maintained
/// libsodium binding (NSec). secp256k1 only pays off where reporters must be Ethereum or Bitcoin
/// accounts, which ours are not.
/// </remarks>
public sealed record PriceReport(string Underlying, Price Price, long PublishMicros, int ReporterId, byte[] Signature)
{
    public const string Tag = "clearhouse/price-report/v1";

    public const int SignatureSize = 64;

    public const int PublicKeySize = 32;

    public byte[] SignedMessage() => Message(Underlying, Price, PublishMicros, ReporterId);

    public static byte[] Message(string underlying, Price price, long publishMicros, int reporterId)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        var w = new CanonicalWriter(buffer);
        w.String(Tag);
        w.String(underlying);
        w.Long(price.Micros);
        w.Long(publishMicros);
        w.Int(reporterId);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>True when <see cref="Signature"/> is the reporter's Ed25519 signature of this report.</summary>
    public bool HasValidSignature(ReadOnlySpan<byte> reporterPublicKey)
    {
        if (Signature is null || Signature.Length != SignatureSize || reporterPublicKey.Length != PublicKeySize)
        {
            return false;
        }

        if (!PublicKey.TryImport(SignatureAlgorithm.Ed25519, reporterPublicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null)
        {
            return false;
        }

        return SignatureAlgorithm.Ed25519.Verify(key, SignedMessage(), Signature);
    }

    /// <summary>Signs a report (for reporters, simulators and tests; the engine only verifies).</summary>
    public static PriceReport Sign(Key privateKey, string underlying, Price price, long publishMicros, int reporterId) =>
        new(underlying, price, publishMicros, reporterId, SignatureAlgorithm.Ed25519.Sign(privateKey, Message(underlying, price, publishMicros, reporterId)));

    /// <summary>A new Ed25519 key pair whose private key can be exported (for simulated reporters and tests).</summary>
    public static Key NewSigningKey() =>
        Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });

    /// <summary>A signing key from a 32-byte Ed25519 seed (deterministic: same seed, same key).</summary>
    public static Key SigningKeyFromSeed(ReadOnlySpan<byte> seed) =>
        Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });

    public static byte[] PublicKeyOf(Key key) => key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
}
