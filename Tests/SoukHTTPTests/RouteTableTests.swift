import HTTPTypes
import Hummingbird
import Testing

@testable import SoukHTTP

@Suite("The route table tells 404 from 405")
struct RouteTableTests {
    /// Overlapping patterns as the store has them: literals beside captures, a wildcard tail.
    static let table: RouteTable = {
        let router = Router(context: SoukRequestContext.self)
        let answer: @Sendable (Request, SoukRequestContext) async throws -> HTTPResponse.Status = { _, _ in .ok }
        router.get("/", use: answer)
        router.get("api/v1/products", use: answer)
        router.post("api/v1/products", use: answer)
        router.get("api/v1/products/:id", use: answer)
        router.patch("api/v1/products/:id", use: answer)
        router.delete("api/v1/products/:id", use: answer)
        router.get("api/v1/products/mine", use: answer)
        router.post("products/:slug/review", use: answer)
        router.get("products/:slug", use: answer)
        router.get("static/**", use: answer)
        router.get(":page", use: answer)
        return RouteTable(router.routes)
    }()

    @Test(
        "accepts(_:path:) says yes exactly when methods(for:) is empty or holds the method",
        arguments: [
            "/", "/api/v1/products", "/api/v1/products/", "/api/v1/products/prod_1", "/api/v1/products/mine",
            "/api/v1/products/prod_1/extra", "/products/a-slug", "/products/a-slug/review", "/products/a/b/c",
            "/static/css/store.css", "/static", "/about", "/nothing/here", "",
        ])
    func acceptsAgreesWithMethods(path: String) {
        let methods = Self.table.methods(for: path)
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .head, .options] {
            #expect(
                Self.table.accepts(method, path: path) == (methods.isEmpty || methods.contains(method)),
                "\(method) \(path), methods \(methods)")
        }
    }

    @Test("The most literal pattern decides")
    func mostLiteralDecides() {
        // `mine` is a literal: only GET, even though `:id` takes PATCH and DELETE.
        #expect(Self.table.methods(for: "/api/v1/products/mine") == [.get, .head])
        #expect(!Self.table.accepts(.delete, path: "/api/v1/products/mine"))
        #expect(Self.table.accepts(.delete, path: "/api/v1/products/prod_1"))
        #expect(!Self.table.accepts(.get, path: "/products/a-slug/review"))
        #expect(Self.table.accepts(.put, path: "/nothing/here"), "no pattern: the router answers 404")
    }

    @Test("HEAD is taken wherever GET is, as the router answers it, and nowhere else")
    func headWhereGet() {
        for path in ["/", "/api/v1/products", "/api/v1/products/prod_1", "/products/a-slug", "/static/css/store.css", "/about"] {
            #expect(Self.table.accepts(.head, path: path), "\(path)")
        }
        #expect(!Self.table.accepts(.head, path: "/products/a-slug/review"), "a POST-only address")
        #expect(Self.table.methods(for: "/products/a-slug/review") == [.post])
    }
}
