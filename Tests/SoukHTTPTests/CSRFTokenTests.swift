import Crypto
import Foundation
import SoukAuth
import SoukCore
import Testing

@testable import SoukHTTP

@Suite("CSRF tokens")
struct CSRFTokenTests {
    @Test("A token is the HMAC of the browser's cookie and session, the same on every call (forms loaded before a restart still work)")
    func tokenIsTheHMAC() {
        let key = SymmetricKey(data: Array(repeating: UInt8(7), count: 32))
        let csrf = CSRFMiddleware(key: key, secure: false, maxBodyBytes: 1 << 20)
        func expected(_ message: String) -> String {
            Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)))
        }
        let cookie = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
        for _ in 0..<3 {
            #expect(csrf.token(for: cookie, sessionHash: nil) == expected("csrf:\(cookie):signed-out"))
            #expect(
                csrf.token(for: cookie, sessionHash: Secrets.storageHash("s3cret")) == expected("csrf:\(cookie):session:\(Secrets.storageHash("s3cret"))"))
        }
        #expect(csrf.token(for: cookie, sessionHash: nil) != csrf.token(for: cookie.lowercased(), sessionHash: nil))
        let otherKey = CSRFMiddleware(key: SymmetricKey(size: .bits256), secure: false, maxBodyBytes: 1 << 20)
        #expect(otherKey.token(for: cookie, sessionHash: nil) != csrf.token(for: cookie, sessionHash: nil))
    }
}
