#if canImport(Glibc)
    import Glibc
#endif
/// Random, prefixed identifiers (`usr_…`, `ses_…`) and secrets.
///
/// IDs carry 128 bits from the system's cryptographic generator, written in lower-case base32 so
/// they are URL-safe, case-insensitive and readable aloud.
public enum IDPrefix: String, Sendable {
    case user = "usr"
    case session = "ses"
    case token = "tok"
    case product = "prod"
    case file = "file"
    case image = "img"
    case emailChange = "emc"
    case job = "job"
    case cart = "cart"
    case order = "ord"
    case orderItem = "li"
    case grant = "grant"
    case refund = "re"
    case testSession = "cs_test"
    case license = "lic"
    case activation = "act"
    case download = "dl"
    case notification = "ntf"
    case paymentMismatch = "pmm"
    case review = "rev"
    case message = "msg"
    case adminAudit = "aud"
    case webhookEndpoint = "wh"
    case webhookDelivery = "whd"
}

public protocol IDGenerator: Sendable {
    func make(_ prefix: IDPrefix) -> String
}

public struct RandomIDGenerator: IDGenerator {
    public init() {}
    public func make(_ prefix: IDPrefix) -> String {
        "\(prefix.rawValue)_\(RandomText.base32(byteCount: 16))"
    }
}

public enum RandomText {
    private static let base32Alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")  // no l, o, 0, 1

    private static let base62Characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Random bytes from the operating system's CSPRNG in one call (`arc4random_buf`, one
    /// `getrandom` system call): taking them 8 at a time from `SystemRandomNumberGenerator`, each
    /// a system call, made an ID and a cookie per request a visible cost.
    public static func bytes(_ count: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        #if canImport(Glibc)
            output.withUnsafeMutableBytes { if let base = $0.baseAddress { arc4random_buf(base, count) } }
        #else
            var generator = SystemRandomNumberGenerator()
            for index in output.indices { output[index] = generator.next() }
        #endif
        return output
    }

    /// `byteCount` random bytes as base32 text (5 bits a character).
    public static func base32(byteCount: Int) -> String {
        encode(bytes(byteCount), alphabet: base32Alphabet, bitsPerCharacter: 5)
    }

    /// A random string of `length` characters from [A-Za-z0-9] (≈5.95 bits each), without modulo bias.
    public static func base62(length: Int) -> String {
        var output = [UInt8]()
        output.reserveCapacity(length)
        while output.count < length {
            // 248 = 4 × 62: bytes below it map evenly onto the alphabet, the few above are dropped.
            for byte in bytes(length - output.count + 8) where byte < 248 && output.count < length {
                output.append(base62Characters[Int(byte % 62)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func encode(_ bytes: [UInt8], alphabet: [Character], bitsPerCharacter: Int) -> String {
        var output = ""
        var buffer = 0
        var bits = 0
        let mask = (1 << bitsPerCharacter) - 1
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= bitsPerCharacter {
                bits -= bitsPerCharacter
                output.append(alphabet[(buffer >> bits) & mask])
            }
            buffer &= (1 << bits) - 1
        }
        if bits > 0 { output.append(alphabet[(buffer << (bitsPerCharacter - bits)) & mask]) }
        return output
    }
}
