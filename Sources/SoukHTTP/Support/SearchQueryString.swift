import Foundation
import SoukDatabase

/// The search API's query string, for tools outside the server (the in-process benchmark) that
/// must read queries exactly as `GET /api/v1/products` does.
public enum SearchQueryString {
    /// `q=swift+book&category=Books` → ["q": "swift book", "category": "Books"].
    public static func parse(_ line: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in line.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }
}

extension ProductQuery {
    /// Reads API parameters (see `GET /api/v1/products`); throws `badRequest` naming a bad one.
    public init(apiParameters: [String: String]) throws {
        try self.init(parameters: apiParameters)
    }
}
