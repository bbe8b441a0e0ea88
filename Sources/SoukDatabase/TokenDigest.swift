import Crypto
import Foundation
import SoukCore

/// How the database keeps a bearer secret (session, access token, sign-in, reset or confirmation
/// link): its SHA-256, hex. The secrets are random and long, so a fast hash suffices (no
/// dictionary to attack). One definition, so a link made by one module is found by another.
public enum TokenDigest {
    public static func hex(_ secret: String) -> String {
        Hex.encode(SHA256.hash(data: Data(secret.utf8)))
    }
}
