import Crypto
import Foundation
import SoukCore

/// Bearer secrets (session cookies, personal access tokens) and how they are stored.
public enum Secrets {
    /// Prefix that makes a leaked token recognisable by secret scanners.
    public static let tokenPrefix = "souk_pat_"

    public static func newSessionToken() -> String { RandomText.base62(length: 43) }  // ≈256 bits
    public static func newAccessToken() -> String { tokenPrefix + RandomText.base62(length: 43) }

    /// What the database stores instead of a secret: its SHA-256, hex. The secrets are random
    /// and long, so a fast hash suffices (no dictionary to attack).
    public static func storageHash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        constantTimeEqual(Array(a.utf8), Array(b.utf8))
    }
}
