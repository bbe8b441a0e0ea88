import Foundation
import SoukCore
@testable import SoukDatabase

/// A fresh database in a temporary folder, with terse ways to add the people and products a
/// test needs.
struct TestStore {
    let database: AppDatabase

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = try AppDatabase(path: directory.appendingPathComponent("souk.db").path)
    }

    func seller(_ email: String) async throws -> User {
        _ = try await database.insertUser(email: email, name: email, passwordHash: "x", role: .seller)
        return try await database.setSellerStatus(email: email, .verified)
    }

    func buyer(_ email: String) async throws -> User {
        try await database.insertUser(email: email, name: email, passwordHash: "x", role: .buyer)
    }

    /// A published product at 5 USD.
    func product(_ title: String, by seller: User) async throws -> Product {
        let now = database.clock.now()
        return try await database.insertProduct(
            Product(
                id: database.ids.make(.product), sellerID: seller.id, sellerName: seller.name, title: title,
                slug: title.lowercased().replacingOccurrences(of: " ", with: "-"), summary: "", description: "",
                descriptionHTML: "", category: "Books", tags: [], kind: .download,
                price: Price(amount: 500, currency: "USD", minimum: nil), stock: nil, status: .published,
                attributesJSON: "{}", downloadLimit: nil, activationLimit: nil, ratingAverage: 0, ratingCount: 0,
                salesCount: 0, createdAt: now, updatedAt: now, publishedAt: now))
    }
}
