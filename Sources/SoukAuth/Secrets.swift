import Foundation
import SoukCore
import SoukDatabase

/// Bearer secrets (session cookies, personal access tokens) and how they are stored.
public enum Secrets {
    /// Prefix that makes a leaked token recognisable by secret scanners.
    public static let tokenPrefix = "souk_pat_"

    public static func newSessionToken() -> String { RandomText.base62(length: 43) }  // ≈256 bits
    public static func newAccessToken() -> String { tokenPrefix + RandomText.base62(length: 43) }

    /// What the database stores instead of a secret (`TokenDigest`).
    public static func storageHash(_ secret: String) -> String { TokenDigest.hex(secret) }
}
