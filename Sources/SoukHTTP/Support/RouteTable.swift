import HTTPTypes
import Hummingbird
import Synchronization

/// The router's routes by path pattern, to tell "no such address" (404) from "this address does
/// not take that method" (405 with `Allow`, RFC 9110 §15.5.6), which Hummingbird's router does
/// not distinguish.
struct RouteTable: Sendable {
    struct Pattern: Sendable {
        var elements: [RouterPath.Element]
        /// Per element, its text when it is a literal (compared as a string), nil for a capture
        /// or wildcard (matched by the router's own `~=`).
        var literalTexts: [String?]
        /// Where a `**` stands (it matches whatever is left), if anywhere.
        var recursiveWildcard: Int?
        var methods: Set<HTTPRequest.Method>
        /// Literal elements: where patterns overlap the router prefers the more literal one.
        var literals: Int

        init(_ elements: [RouterPath.Element]) {
            self.elements = elements
            let texts = elements.map(\.description)
            literalTexts = texts.map { $0.contains("{") || $0.contains("*") ? nil : $0 }
            recursiveWildcard = texts.firstIndex(of: "**")
            methods = []
            literals = literalTexts.count { $0 != nil }
        }

        func matches(_ segments: [Substring]) -> Bool {
            var index = 0
            for (position, element) in elements.enumerated() {
                if position == recursiveWildcard { return true }
                guard index < segments.count else { return false }
                if let literal = literalTexts[position] {
                    guard segments[index] == literal else { return false }
                } else {
                    guard element ~= segments[index] else { return false }
                }
                index += 1
            }
            return index == segments.count
        }
    }

    private(set) var patterns: [Pattern] = []
    /// Patterns by their first element when it is a literal (`api`, `products`…), so a request
    /// is compared with a few patterns rather than all of them: this runs on every request.
    private var byFirstLiteral: [Substring: [Int]] = [:]
    /// Patterns whose first element is not a literal, or that have none (`/`).
    private var openFirst: [Int] = []

    init(_ routes: [Router<SoukRequestContext>.RouteDescription]) {
        var byPath: [String: Pattern] = [:]
        for route in routes {
            byPath[route.path.description, default: Pattern(route.path.components)].methods.insert(route.method)
        }
        // Hummingbird's router answers HEAD wherever GET is (the GET's headers, no body), so
        // a monitor or a CDN asking HEAD must not be told 405 (RFC 9110 §9.3.2).
        for path in byPath.keys where byPath[path]!.methods.contains(.get) { byPath[path]!.methods.insert(.head) }
        patterns = Array(byPath.values)
        for (index, pattern) in patterns.enumerated() {
            if let first = pattern.literalTexts.first, let literal = first {
                byFirstLiteral[Substring(literal), default: []].append(index)
            } else {
                openFirst.append(index)
            }
        }
    }

    /// Whether a request may go on to the router: no pattern matches `path` (the router answers
    /// 404), or the most specific ones take `method`. The question every request asks, answered
    /// without building the set of methods (`methods(for:)`, for the 405's `Allow`).
    func accepts(_ method: HTTPRequest.Method, path: String) -> Bool {
        var accepted = true
        forEachMostSpecific(path) { pattern, moreLiteral in
            let takes = pattern.methods.contains(method)
            accepted = moreLiteral ? takes : accepted || takes
        }
        return accepted
    }

    /// The methods the most specific route pattern matching `path` takes; empty when none matches.
    func methods(for path: String) -> Set<HTTPRequest.Method> {
        var methods: Set<HTTPRequest.Method> = []
        forEachMostSpecific(path) { pattern, moreLiteral in
            if moreLiteral { methods = pattern.methods } else { methods.formUnion(pattern.methods) }
        }
        return methods
    }

    /// Each pattern matching `path` with at least as many literals as any matched before it,
    /// told whether it has more (where patterns overlap, the router prefers the more literal):
    /// what was gathered before a more literal one no longer counts.
    private func forEachMostSpecific(_ path: String, _ body: (_ pattern: borrowing Pattern, _ moreLiteral: Bool) -> Void) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var bestLiterals = -1
        func consider(_ index: Int) {
            let literals = patterns[index].literals
            guard literals >= bestLiterals, patterns[index].matches(segments) else { return }
            body(patterns[index], literals > bestLiterals)
            bestLiterals = literals
        }
        if let first = segments.first, let indices = byFirstLiteral[first] {
            for index in indices { consider(index) }
        }
        for index in openFirst { consider(index) }
    }
}

/// Filled once, after every route is registered; read by `MethodNotAllowedMiddleware`, which is
/// added before the routes exist.
final class RouteTableReference: Sendable {
    private let table = Mutex(RouteTable([]))

    func set(_ table: RouteTable) { self.table.withLock { $0 = table } }
    var current: RouteTable { table.withLock { $0 } }
}
