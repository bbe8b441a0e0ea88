import Foundation
import SoukCore
import Testing

@Suite("Identifiers and account rules")
struct IdentifiersTests {
    @Test("IDs are prefixed, URL-safe and unique")
    func ids() {
        let generator = RandomIDGenerator()
        let ids = (0..<1000).map { _ in generator.make(.user) }
        #expect(Set(ids).count == 1000)
        for id in ids.prefix(20) {
            #expect(id.hasPrefix("usr_"))
            #expect(id.dropFirst(4).count == 26)  // 128 bits in base32
            #expect(id.dropFirst(4).allSatisfy { $0.isLowercase || $0.isNumber })
        }
    }

    @Test("Random text: the asked length, the asked alphabet, every character used, no repeats")
    func randomText() {
        #expect(RandomText.bytes(0).isEmpty)
        #expect(RandomText.bytes(13).count == 13)
        let tokens = (0..<2000).map { _ in RandomText.base62(length: 32) }
        #expect(Set(tokens).count == tokens.count)
        #expect(tokens.allSatisfy { $0.count == 32 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        // 64,000 draws over 62 characters: each expected ~1,032 times; a skewed mapping would starve some.
        var counts: [Character: Int] = [:]
        for token in tokens { for character in token { counts[character, default: 0] += 1 } }
        #expect(counts.count == 62)
        #expect(counts.values.allSatisfy { $0 > 800 && $0 < 1300 }, "\(counts)")
    }

    @Test("Base64URL matches Foundation's base64 with the URL alphabet and no padding, and round-trips")
    func base64URL() {
        for length in 0..<40 {
            let data = Data(RandomText.bytes(length))
            let reference = data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(data) == reference)
            #expect(Base64URL.decode(Base64URL.encode(data)) == data)
        }
        #expect(Base64URL.encode(Data([0xfb, 0xff, 0xbf])) == "-_-_")
    }

    @Test("Hex: two lower-case digits a byte, as printf's %02x")
    func hex() {
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        let bytes = RandomText.bytes(64)
        #expect(Hex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
    }

    @Test("E-mails are normalised, nonsense refused")
    func emails() throws {
        #expect(try AccountRules.email("  Ann@Example.COM ") == "ann@example.com")
        for bad in ["", "ann", "ann@", "@x.com", "a@b", "a b@c.com", "a@b@c.com", "a@.com", "<a@b.com>"] {
            #expect(throws: SoukError.self, "\(bad) should be refused") { try AccountRules.email(bad) }
        }
    }

    @Test("One address, however it is spelled, normalises to one value (the rate limiter's key and the lookup's)")
    func emailSpellings() throws {
        for spelling in ["victim@x.com", "victim@x.com\n", " VICTIM@x.com ", "\tVictim@X.Com\r\n", "victim@x.com\u{2028}"] {
            #expect(try AccountRules.email(spelling) == "victim@x.com", "\(spelling.debugDescription)")
        }
    }

    @Test("Over-long, control characters, header tricks: refused")
    func emailAbuse() throws {
        let local = String(repeating: "a", count: 250)
        for bad in [
            "\(local)@x.com", String(repeating: "a", count: 100 * 1024) + "@x.com", "a\u{0}b@x.com", "a@x..com",
            "a\nbcc@x.com", "a@x.com\nBcc: b@y.com", "\"a\"@x.com", "a;b@x.com", "a\u{200B}@x.com",
        ] {
            #expect(throws: SoukError.self, "\(bad.prefix(40).debugDescription) should be refused") {
                try AccountRules.email(bad)
            }
        }
        #expect(try AccountRules.email(String(repeating: "a", count: 248) + "@x.com").utf8.count == 254)
    }

    @Test("Passwords: at least 8 characters, at most bcrypt's 72 bytes")
    func passwords() throws {
        #expect(throws: SoukError.self) { try AccountRules.password("1234567") }
        #expect(try AccountRules.password("12345678") == "12345678")
        #expect(throws: SoukError.self) { try AccountRules.password(String(repeating: "é", count: 37)) }
    }

    @Test("The public URL defaults to host and port")
    func baseURL() {
        var settings = Settings()
        #expect(settings.publicBaseURL == "http://127.0.0.1:8080")
        #expect(!settings.isHTTPS)
        settings.server.baseURL = "https://shop.example.com/"
        #expect(settings.publicBaseURL == "https://shop.example.com")
        #expect(settings.isHTTPS)
    }
}
