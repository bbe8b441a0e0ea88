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
}
