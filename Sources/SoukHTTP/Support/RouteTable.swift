import HTTPTypes
import Hummingbird
import Synchronization

/// The router's routes by path pattern, to tell "no such address" (404) from "this address does
/// not take that method" (405 with `Allow`, RFC 9110 §15.5.6), which Hummingbird's router does
/// not distinguish.
struct RouteTable: Sendable {
    struct Pattern: Sendable {
        var elements: [RouterPath.Element]
        var methods: Set<HTTPRequest.Method>
        /// Literal elements: where patterns overlap the router prefers the more literal one.
        var literals: Int
    }

    private(set) var patterns: [Pattern] = []

    init(_ routes: [Router<SoukRequestContext>.RouteDescription]) {
        var byPath: [String: Pattern] = [:]
        for route in routes {
            let elements = route.path.components
            let literals = elements.filter { !$0.description.contains("{") && !$0.description.contains("*") }.count
            byPath[route.path.description, default: Pattern(elements: elements, methods: [], literals: literals)]
                .methods.insert(route.method)
        }
        patterns = Array(byPath.values)
    }

    /// The methods the most specific route pattern matching `path` takes; empty when none matches.
    func methods(for path: String) -> Set<HTTPRequest.Method> {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: (literals: Int, methods: Set<HTTPRequest.Method>) = (-1, [])
        for pattern in patterns where Self.matches(pattern.elements, segments) {
            if pattern.literals > best.literals {
                best = (pattern.literals, pattern.methods)
            } else if pattern.literals == best.literals {
                best.methods.formUnion(pattern.methods)
            }
        }
        return best.methods
    }

    private static func matches(_ elements: [RouterPath.Element], _ segments: [Substring]) -> Bool {
        var index = 0
        for element in elements {
            if element.description == "**" { return true }
            guard index < segments.count, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}

/// Filled once, after every route is registered; read by `MethodNotAllowedMiddleware`, which is
/// added before the routes exist.
final class RouteTableReference: Sendable {
    private let table = Mutex(RouteTable([]))

    func set(_ table: RouteTable) { self.table.withLock { $0 = table } }
    var current: RouteTable { table.withLock { $0 } }
}
