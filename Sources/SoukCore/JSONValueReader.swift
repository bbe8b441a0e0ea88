import Foundation

extension JSONValue {
    /// The JSON value `data` holds, read in one pass over its bytes; throws what `JSONDecoder`
    /// throws for text that is not JSON.
    ///
    /// `JSONDecoder` cannot say what kind of value comes next, so decoding a `JSONValue` tries
    /// each kind in turn and every miss builds and throws an error: a provider's event, read on
    /// every webhook, cost 17 % of the server's time during a payment burst. This reader knows
    /// the kind from the first byte. Anything it does not read itself (an escape it would have to
    /// guess about, a number outside `Double`, very deep nesting, a repeated key, bytes that are
    /// not UTF-8, or text that is not JSON) is handed to `JSONDecoder`, so the answer, or the
    /// error, is always `JSONDecoder`'s.
    public static func read(_ data: Data) throws -> JSONValue {
        let fast: JSONValue? = data.withUnsafeBytes { raw in
            var reader = JSONValueReader(raw.bindMemory(to: UInt8.self))
            return try? reader.document()
        }
        return try fast ?? JSONDecoder().decode(JSONValue.self, from: data)
    }
}

/// Reads strict JSON (RFC 8259) into `JSONValue`; throws `Unread` where `JSONDecoder` decides.
struct JSONValueReader {
    struct Unread: Error {}

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0
    static let deepest = 256

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func document() throws -> JSONValue {
        let value = try self.value()
        skipWhitespace()
        guard position == bytes.count else { throw Unread() }
        return value
    }

    private mutating func value() throws -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else { throw Unread() }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func object() throws -> JSONValue {
        try open()
        var members: [String: JSONValue] = [:]
        if try closes(UInt8(ascii: "}"), empty: true) { return .object(members) }
        repeat {
            skipWhitespace()
            guard try peek() == UInt8(ascii: "\"") else { throw Unread() }
            let key = try string()
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw Unread() }
            position += 1
            // A repeated key: which one wins is `JSONDecoder`'s to say.
            guard members.updateValue(try value(), forKey: key) == nil else { throw Unread() }
        } while try !closes(UInt8(ascii: "}"))
        return .object(members)
    }

    private mutating func array() throws -> JSONValue {
        try open()
        var elements: [JSONValue] = []
        if try closes(UInt8(ascii: "]"), empty: true) { return .array(elements) }
        repeat { elements.append(try value()) } while try !closes(UInt8(ascii: "]"))
        return .array(elements)
    }

    /// Past a container's opening byte, one level deeper.
    private mutating func open() throws {
        depth += 1
        guard depth <= Self.deepest else { throw Unread() }
        position += 1
    }

    /// At `closing`: true, past it and a level up. Otherwise false, past the comma between two
    /// members or elements; right after the opening byte (`empty`) there is no comma to pass.
    private mutating func closes(_ closing: UInt8, empty: Bool = false) throws -> Bool {
        skipWhitespace()
        let byte = try peek()
        if byte == closing {
            position += 1
            depth -= 1
            return true
        }
        if empty { return false }
        guard byte == UInt8(ascii: ",") else { throw Unread() }
        position += 1
        return false
    }

    /// A string without escapes is taken as it stands (checked as UTF-8); the common escapes are
    /// decoded; `\u` escapes, control characters and anything odd go to `JSONDecoder`.
    private mutating func string() throws -> String {
        position += 1
        let start = position
        var unescaped: [UInt8]?
        var plainFrom = start
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                let tail = UnsafeBufferPointer(rebasing: bytes[plainFrom..<position])
                position += 1
                // Checked as UTF-8: a string that is not is `JSONDecoder`'s to refuse.
                let text: String?
                if var built = unescaped {
                    built.append(contentsOf: tail)
                    text = String(validating: built, as: UTF8.self)
                } else {
                    text = String(validating: tail, as: UTF8.self)
                }
                guard let text else { throw Unread() }
                return text
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count else { throw Unread() }
                var built = unescaped ?? []
                built.append(contentsOf: bytes[plainFrom..<position])
                let decoded: UInt8
                switch bytes[position + 1] {
                case UInt8(ascii: "\""): decoded = UInt8(ascii: "\"")
                case UInt8(ascii: "\\"): decoded = UInt8(ascii: "\\")
                case UInt8(ascii: "/"): decoded = UInt8(ascii: "/")
                case UInt8(ascii: "b"): decoded = 8
                case UInt8(ascii: "f"): decoded = 12
                case UInt8(ascii: "n"): decoded = 10
                case UInt8(ascii: "r"): decoded = 13
                case UInt8(ascii: "t"): decoded = 9
                default: throw Unread()  // `\u` and invalid escapes
                }
                built.append(decoded)
                unescaped = built
                position += 2
                plainFrom = position
            case 0..<0x20:
                throw Unread()
            default:
                position += 1
            }
        }
        throw Unread()
    }

    /// `-? int frac? exp?` as RFC 8259 writes it, finite as a `Double`.
    private mutating func number() throws -> Double {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, Self.isDigit(bytes[position]) else { throw Unread() }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, Self.isDigit(bytes[position]) else { throw Unread() }
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, Self.isDigit(bytes[position]) else { throw Unread() }
            skipDigits()
        }
        guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self),
            let number = Double(text), number.isFinite
        else { throw Unread() }
        return number
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw Unread() }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for index in 0..<count where bytes[position + index] != expected[index] { throw Unread() }
        position += count
    }

    private func peek() throws -> UInt8 {
        guard position < bytes.count else { throw Unread() }
        return bytes[position]
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func skipDigits() {
        while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
