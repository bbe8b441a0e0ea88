import Foundation
import SoukCore
import Testing

@Suite("JSON written by hand")
struct JSONTextTests {
    private func encoderString(_ text: String) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(text))
    }

    @Test("A string is escaped byte for byte as JSONEncoder escapes it: every control character, quotes, backslashes, slashes, any Unicode")
    func stringsLikeJSONEncoder() throws {
        var pool: [Character] = (0..<0x20).map { Character(Unicode.Scalar($0)!) }
        pool += ["\"", "\\", "/", "a", "Z", "0", " ", "é", "ü", "—", "\u{2028}", "\u{2029}", "\u{7F}", "🎉", "👩‍💻", "\u{2}", "\u{3}", "<", "&"]
        var generator = SystemRandomNumberGenerator()
        var texts = ["", "plain", "\"quoted\"", "back\\slash", "a/b", String(pool)]
        for _ in 0..<3000 {
            texts.append(String((0..<Int.random(in: 0...24, using: &generator)).map { _ in pool.randomElement(using: &generator)! }))
        }
        for text in texts {
            var out: [UInt8] = []
            JSONText.appendString(text, to: &out)
            #expect(out == (try encoderString(text)), "\(text.debugDescription)")
        }
    }

    @Test("Counts by name: an object with the names in Unicode order, the same object JSONEncoder writes")
    func countsObject() throws {
        let counts = ["Zines \"x\"": 1, "art": 12, "Books": 4, "émigré": 0, "a/b": 7]
        var out: [UInt8] = []
        JSONText.appendObject(counts, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"Books":4,"Zines \"x\"":1,"a/b":7,"art":12,"émigré":0}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Int] == counts)
        out = []
        JSONText.appendObject([:], to: &out)
        #expect(out == Array("{}".utf8))
    }
}
