import Foundation

/// What a `Range` request header asks of a representation of a known size (RFC 9110 §14.1–14.2).
/// Souk serves one range at a time: a request for several ranges gets the whole file (a server
/// may always ignore `Range`), which every download manager copes with.
enum ByteRangeRequest: Equatable, Sendable {
    /// Serve the whole representation: no `Range`, another unit, a malformed or an invalid range
    /// set (ignored, as RFC 9110 requires), or several ranges.
    case whole
    /// One satisfiable range, inclusive, already clamped to the representation.
    case partial(ClosedRange<Int64>)
    /// A valid range that lies wholly past the end (or a zero-length suffix): 416.
    case unsatisfiable
}

enum ByteRanges {
    /// Parses `Range` against `size` bytes. Forms: `bytes=a-b`, `bytes=a-`, `bytes=-n`.
    static func parse(_ header: String?, size: Int64) -> ByteRangeRequest {
        guard let header else { return .whole }
        guard let equals = header.firstIndex(of: "=") else { return .whole }
        let unit = header[..<equals].trimmingCharacters(in: .whitespaces)
        guard unit.lowercased() == "bytes" else { return .whole }
        // The list may carry empty elements ("bytes=0-1, ,"): RFC 9110 §5.6.1 says to ignore them.
        let specs = header[header.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard specs.count == 1, let spec = specs.first else { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        let (first, last) = (parts[0], parts[1])
        switch (first.isEmpty, last.isEmpty) {
        case (true, true):
            return .whole
        case (true, false):
            // Suffix: the last n bytes.
            guard let count = number(last) else { return .whole }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - count)...(size - 1))
        case (false, _):
            guard let start = number(first) else { return .whole }
            var end = Int64.max
            if !last.isEmpty {
                guard let value = number(last) else { return .whole }
                guard value >= start else { return .whole }  // invalid: last-pos < first-pos
                end = value
            }
            guard start < size else { return .unsatisfiable }
            return .partial(start...min(end, size - 1))
        }
    }

    /// `Content-Range` of a 206.
    static func contentRange(_ range: ClosedRange<Int64>, size: Int64) -> String {
        "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
    }

    /// `Content-Range` of a 416.
    static func unsatisfiedRange(size: Int64) -> String { "bytes */\(size)" }

    /// ASCII digits as a non-negative number; a value too large for Int64 saturates (it is past
    /// the end of any file). Nil when not all digits.
    private static func number(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text) ?? Int64.max
    }
}
