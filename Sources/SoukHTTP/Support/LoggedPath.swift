import Foundation

/// A request path as it may be written to the log: with every secret it can carry replaced by
/// `<redacted>`. Request lines and error lines both go through here; query strings (download
/// signatures, `token=…`, order keys) are never logged at all.
///
/// - A matched route: the segments captured by a secret parameter (`{token}` of `/magic/{token}`,
///   a license `{key}`) are redacted, and so is any other captured value that looks like a token;
///   the rest is logged as sent (IDs and slugs help the operator).
/// - Any other path (a 404, a mangled link): everything after a segment that introduces a secret
///   (`magic`, `reset`, …, compared case-insensitively and percent-decoded, so `/MAGIC/…` and
///   `/%6dagic/…` are caught too), and every long opaque segment that is not a Souk ID, is
///   redacted: a sign-in link's token pasted anywhere stays out of the log.
enum LoggedPath {
    static let redacted = "<redacted>"
    /// Route parameters that hold a credential.
    static let secretParameters: Set<String> = ["{token}", "{key}"]
    /// Path segments after which the rest of an unknown path may be a secret.
    static let secretMarkers: Set<String> = ["magic", "reset", "reset-password", "password-reset"]

    static func loggable(_ path: String, route: String?) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        if let route, route != "NotFound" {
            let template = route.split(separator: "/", omittingEmptySubsequences: false)
            if template.count == segments.count {
                // Any captured value may be a pasted token (`/products/<token>`): opaque ones are
                // redacted too; IDs and slugs stay.
                return zip(segments, template).map { segment, part in
                    let value = String(segment).removingPercentEncoding ?? String(segment)
                    let captured = part.hasPrefix("{") || part.hasPrefix(":")
                    return secretParameters.contains(String(part)) || (captured && mayBeSecret(value)) ? redacted : String(segment)
                }.joined(separator: "/")
            }
        }
        var afterMarker = false
        return segments.map { raw -> String in
            let segment = String(raw).removingPercentEncoding ?? String(raw)
            defer { if secretMarkers.contains(segment.lowercased()) { afterMarker = true } }
            if afterMarker && !segment.isEmpty { return redacted }
            return mayBeSecret(segment) ? redacted : String(raw)
        }.joined(separator: "/")
    }

    /// Long enough to be a token and not shaped like one of Souk's IDs (`prod_…`, `ord_…`) or a
    /// product slug (lower-case words and hyphens).
    static func mayBeSecret(_ segment: String) -> Bool {
        guard segment.count >= 20 else { return false }
        return !isSoukID(segment) && !isSlug(segment)
    }

    private static func isSlug(_ segment: String) -> Bool {
        segment.contains("-")
            && segment.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    private static func isSoukID(_ segment: String) -> Bool {
        guard let underscore = segment.lastIndex(of: "_") else { return false }
        let prefix = segment[..<underscore]
        let body = segment[segment.index(after: underscore)...]
        return !prefix.isEmpty && prefix.count <= 8 && prefix.allSatisfy({ $0.isASCII && ($0.isLowercase || $0 == "_") })
            && body.count == 26 && body.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) })
    }
}
