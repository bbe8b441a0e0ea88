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

    @Test("A plain array of strings reads as JSONDecoder reads it; anything else is left to the decoder")
    func plainStringArrays() throws {
        var pool: [Character] = (0..<0x20).map { Character(Unicode.Scalar($0)!) }
        pool += ["\"", "\\", "/", "a", "Z", " ", ",", "[", "]", "é", "—", "🎉", "👩‍💻"]
        var generator = SystemRandomNumberGenerator()
        var arrays: [[String]] = [[], [""], ["a"], ["social media", "templates"], ["a,b", "[x]", "é—🎉"]]
        for _ in 0..<2000 {
            arrays.append((0..<Int.random(in: 0...4, using: &generator)).map { _ in
                String((0..<Int.random(in: 0...8, using: &generator)).map { _ in pool.randomElement(using: &generator)! })
            })
        }
        var readFast = 0
        for array in arrays {
            let text = String(decoding: try JSONEncoder().encode(array), as: UTF8.self)
            if let read = JSONText.plainStringArray(text) {
                readFast += 1
                #expect(read == array, "\(text)")
            } else {
                // Only an escape sends an encoder's array to the decoder.
                #expect(text.contains("\\"), "\(text)")
            }
        }
        #expect(readFast > 100)
        for text in ["", "[", "]", "[\"a\"", "[\"a\",]", "[\"a\" ,\"b\"]", " [\"a\"]", "[1]", "[\"a\"]x", "[\"a\"\"b\"]", "{}", "[\"\u{1}\"]", "[\"a\\\"b\"]"] {
            #expect(JSONText.plainStringArray(text) == nil, "\(text.debugDescription)")
        }
    }
}
