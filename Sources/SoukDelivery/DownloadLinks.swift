import Crypto
import Foundation
import SoukCore

/// Signed download URLs: `/download/{grant}/{file}?expires=…&sig=…`, where `sig` is
/// HMAC-SHA256 over the method, the path and the expiry with the server secret. Links are made
/// fresh each time the library is shown and die after `lifetime`.
public struct DownloadLinks: Sendable {
    let key: SymmetricKey
    public let lifetime: TimeInterval
    let clock: any WallClock

    public init(serverSecret: [UInt8], lifetime: TimeInterval, clock: any WallClock = SystemClock()) {
        // A key of its own (derived), so no other signature of Souk's can pass for a link.
        let derived = HMAC<SHA256>.authenticationCode(
            for: Data("souk-download-links".utf8), using: SymmetricKey(data: serverSecret))
        self.key = SymmetricKey(data: Data(derived))
        self.lifetime = lifetime
        self.clock = clock
    }

    public static func path(grantID: String, fileID: String) -> String { "/download/\(grantID)/\(fileID)" }

    /// A link valid for `lifetime` from now (relative: prefix the store's base URL).
    public func link(grantID: String, fileID: String) -> String {
        let path = Self.path(grantID: grantID, fileID: fileID)
        let expires = Int(clock.now().timeIntervalSince1970 + lifetime)
        return "\(path)?expires=\(expires)&sig=\(signature(method: "GET", path: path, expires: expires))"
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case malformed, expired, badSignature
        public var description: String {
            switch self {
            case .malformed: "the link is incomplete"
            case .expired: "the link has expired"
            case .badSignature: "the link has been altered"
            }
        }
    }

    /// Checks a request's path and query values. GET and HEAD share a signature (a HEAD is a GET
    /// without the body).
    public func verify(method: String, path: String, expires: String?, sig: String?) throws(Refusal) {
        guard let expires, let expiry = Int(expires), let sig, !sig.isEmpty else { throw .malformed }
        let expected = signature(method: method == "HEAD" ? "GET" : method, path: path, expires: expiry)
        guard ConstantTime.equal(sig, expected) else { throw .badSignature }
        guard TimeInterval(expiry) > clock.now().timeIntervalSince1970 else { throw .expired }
    }

    func signature(method: String, path: String, expires: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(method)\n\(path)\n\(expires)".utf8), using: key)
        return Base64URL.encode(Data(mac))
    }
}
