#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The network a client address belongs to, as rate limits see it.
///
/// One IPv6 subscriber is usually given a whole /64 (2^64 addresses), so counting per address would
/// give them endless fresh counters: IPv6 clients are counted per /64. An IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 peer) is its IPv4 address.
enum ClientNetwork {
    static func limiterKey(for address: String) -> String {
        var host = Substring(address)
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if let zone = host.firstIndex(of: "%") { host = host[..<zone] }  // fe80::1%eth0
        let text = String(host)

        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                return bytes[12..<16].map { String($0) }.joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { $0.map { String($0) }.joined(separator: ".") }
        }
        // Not an address (no socket address, or a proxy header that is not one): one shared key,
        // so made-up values cannot each get a counter of their own.
        return "unknown"
    }
}
