import Testing

@testable import SoukHTTP

@Suite("Request log")
struct RequestLogTests {
    static let token = "AbCdEf0123456789AbCdEf0123456789AbCdEf01234"

    @Test("A matched route logs its path with its secret parameters redacted")
    func matchedRoutes() {
        #expect(LoggedPath.loggable("/magic/\(Self.token)", route: "/magic/{token}") == "/magic/<redacted>")
        #expect(
            LoggedPath.loggable("/api/v1/licenses/ABCD-EFGH/disable", route: "/api/v1/licenses/{key}/disable")
                == "/api/v1/licenses/<redacted>/disable")
        #expect(LoggedPath.loggable("/api/v1/orders/ord_1", route: "/api/v1/orders/{id}") == "/api/v1/orders/ord_1")
        // A token pasted into any other parameter is redacted too; IDs and slugs are kept.
        #expect(LoggedPath.loggable("/products/\(Self.token)", route: "/products/{slug}") == "/products/<redacted>")
        #expect(LoggedPath.loggable("/orders/\(Self.token)", route: "/orders/{id}") == "/orders/<redacted>")
        #expect(
            LoggedPath.loggable("/products/field-guide-to-ferns-and-mosses", route: "/products/{slug}")
                == "/products/field-guide-to-ferns-and-mosses")
        #expect(
            LoggedPath.loggable("/orders/ord_abcdefghijkmnpqrstuvwxyz23", route: "/orders/{id}")
                == "/orders/ord_abcdefghijkmnpqrstuvwxyz23")
    }

    @Test(
        "An unknown path never carries a token to the log, however it is spelled",
        arguments: [
            "/magic/\(token)/x", "/MAGIC/\(token)", "/%6Dagic/\(token)", "//magic/\(token)", "/reset/\(token)",
            "/x/\(token)", "/magic/short/\(token)",
        ])
    func unknownPaths(path: String) {
        let logged = LoggedPath.loggable(path, route: "NotFound")
        #expect(!logged.contains(Self.token), "\(logged)")
        #expect(!logged.contains("short") || !path.contains("magic"), "\(logged)")
    }

    @Test("Unknown paths keep what helps the operator: short segments and Souk IDs")
    func unknownPathsStayReadable() {
        #expect(LoggedPath.loggable("/api/v1/nope", route: "NotFound") == "/api/v1/nope")
        #expect(
            LoggedPath.loggable("/api/v1/orders/ord_abcdefghijkmnpqrstuvwxyz23/x", route: nil)
                == "/api/v1/orders/ord_abcdefghijkmnpqrstuvwxyz23/x")
    }
}
