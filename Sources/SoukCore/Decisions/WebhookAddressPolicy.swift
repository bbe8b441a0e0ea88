import Foundation

/// An IP address as bytes (4 for IPv4, 16 for IPv6), parsed from its text form without the
/// system's resolver, so the policy below is a pure function of text.
public struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses `a.b.c.d` (four decimal parts, each 0–255, no leading zeros: `010` is octal to some
    /// parsers and decimal to others, so it is refused) or an IPv6 address (with `::`, an embedded
    /// IPv4 tail, and without brackets or a zone).
    public init?(_ text: String) {
        if let v4 = Self.parseIPv4(Substring(text)) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for index in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part == "0" || !part.hasPrefix("0"), let value = UInt8(part)
            else { return nil }
            result.append(value)
        }
        return result
    }

    private static func parseIPv6(_ text: String) -> [UInt8]? {
        guard text.contains(":"), !text.contains("%") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            var result: [UInt8] = []
            for (index, piece) in pieces.enumerated() {
                if allowIPv4Tail, index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    result += v4
                    continue
                }
                guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                result += [UInt8(value >> 8), UInt8(value & 0xff)]
            }
            return result
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
            head.count + tail.count <= 14
        else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

/// Where seller webhooks may not go: any address that reaches the store's own machine or network
/// (loopback, private and link-local ranges, where a cloud's metadata service lives), or that is
/// not one host (multicast, unspecified). A seller's URL is a request the server makes on their
/// behalf; without this, a webhook is a way to probe and call the operator's internal services.
public enum WebhookAddressPolicy {
    /// Why Souk refuses to send to `address`; nil when it may.
    public static func refusal(_ address: IPAddress) -> String? {
        let b = address.bytes
        if address.isIPv4 { return refusalIPv4(b) }
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms reach the IPv4 address.
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
            return refusalIPv4(Array(b[12..<16])).map { "\($0) (IPv4-mapped)" }
        }
        if b.allSatisfy({ $0 == 0 }) { return "the unspecified address" }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "a loopback address" }
        if b[0..<12].allSatisfy({ $0 == 0 }) { return refusalIPv4(Array(b[12..<16])).map { "\($0) (IPv4-compatible)" } ?? "an IPv4-compatible address" }
        // NAT64 (64:ff9b::/96) also reaches an IPv4 address.
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xff, b[3] == 0x9b, b[4..<12].allSatisfy({ $0 == 0 }) {
            return refusalIPv4(Array(b[12..<16])).map { "\($0) (NAT64)" }
        }
        if b[0] & 0xfe == 0xfc { return "a private address (fc00::/7)" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return "a link-local address (fe80::/10)" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return "a site-local address (fec0::/10)" }
        if b[0] == 0xff { return "a multicast address" }
        return nil
    }

    private static func refusalIPv4(_ b: [UInt8]) -> String? {
        switch (b[0], b[1]) {
        case (0, _): return b.allSatisfy({ $0 == 0 }) ? "the unspecified address" : "a reserved address (0.0.0.0/8)"
        case (127, _): return "a loopback address (127.0.0.0/8)"
        case (10, _): return "a private address (10.0.0.0/8)"
        case (172, 16...31): return "a private address (172.16.0.0/12)"
        case (192, 168): return "a private address (192.168.0.0/16)"
        case (169, 254): return "a link-local address (169.254.0.0/16)"
        case (100, 64...127): return "a shared address (100.64.0.0/10)"
        case (224...239, _): return "a multicast address"
        case (240...255, _): return b.allSatisfy({ $0 == 255 }) ? "the broadcast address" : "a reserved address (240.0.0.0/4)"
        default: return nil
        }
    }
}

/// The parts of a webhook URL Souk sends to.
public struct WebhookTarget: Sendable, Equatable {
    public var scheme: String
    /// The host as written, without IPv6 brackets.
    public var host: String
    public var port: Int
    /// The address itself when the host is an IP literal.
    public var literal: IPAddress?
}

/// The rules of a webhook URL, checked when the seller gives it (and again, with the addresses
/// the name resolves to, before every delivery).
public enum WebhookURLRules {
    public static let maxLength = 2048

    /// The URL's target, or `validationFailed` (field `url`) naming what is wrong. Without
    /// `allowPrivate`, an IP literal must pass `WebhookAddressPolicy` and `localhost` names are
    /// refused; other names are checked when they are resolved, at delivery.
    public static func target(_ raw: String, allowPrivate: Bool) throws -> WebhookTarget {
        let text = raw
        func invalid(_ detail: String) -> SoukError { SoukError.validation("url", detail) }
        guard !text.isEmpty else { throw invalid("url is required: the https:// address Souk sends events to.") }
        guard text.unicodeScalars.count <= maxLength else { throw invalid("url is longer than \(maxLength) characters.") }
        // Spaces, backslashes and non-ASCII are read differently by different URL parsers; the
        // host checked here must be the host libcurl connects to.
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7f || $0 == "\\" }) else {
            throw invalid("url must not contain spaces, backslashes or non-ASCII characters (percent-encode them).")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw invalid("url is not a valid URL.")
        }
        guard scheme == "https" || scheme == "http" else {
            throw invalid("url must start with https:// or http://, not \(scheme)://.")
        }
        guard components.user == nil && components.password == nil else {
            throw invalid("url must not carry a user name or password; authenticate with the webhook signature.")
        }
        guard components.fragment == nil else { throw invalid("url must not have a #fragment.") }
        var host = (components.host ?? "").lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw invalid("url has no host.") }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw invalid("url has an invalid port.") }
        let literal = IPAddress(host)
        if !allowPrivate {
            if let literal, let reason = WebhookAddressPolicy.refusal(literal) {
                throw invalid("url points to \(reason); webhooks may only go to public addresses.")
            }
            if literal == nil, host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) {
                // Numeric forms other parsers read as addresses (0x7f.1, 2130706433, 127.1).
                throw invalid("url has an ambiguous numeric host; write the address as a.b.c.d.")
            }
            let bare = host.hasSuffix(".") ? String(host.dropLast()) : host
            if bare == "localhost" || bare.hasSuffix(".localhost") {
                throw invalid("url points to this machine (localhost); webhooks may only go to public addresses.")
            }
        }
        return WebhookTarget(scheme: scheme, host: host, port: port, literal: literal)
    }

    /// The address to connect to among those `host` resolved to: the first, once every one of
    /// them passed the policy (a name with one private address among public ones is refused, so
    /// no choice of resolver order reaches it). Throws `forbidden` with the reason otherwise.
    public static func pinnedAddress(resolved: [IPAddress], host: String, allowPrivate: Bool) throws -> IPAddress {
        guard let first = resolved.first else { throw SoukError(.badRequest, "\(host) did not resolve to any address.") }
        if !allowPrivate {
            for address in resolved {
                if let reason = WebhookAddressPolicy.refusal(address) {
                    throw SoukError(
                        .forbidden, "\(host) resolves to \(address), \(reason); webhooks may only go to public addresses.")
                }
            }
        }
        return first
    }
}
