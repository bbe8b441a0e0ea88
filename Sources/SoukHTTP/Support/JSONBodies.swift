import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// The one encoder of the API's JSON: property names become snake_case keys (`createdAt` →
/// `created_at`, `productID` → `product_id`), keys sorted, slashes unescaped. Bodies declare no
/// key enums; an optional the API always sends (as `null` when empty) is `@Nullable`.
enum APIJSON {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

/// An optional field the API always sends: `null` when there is no value (a synthesized
/// `Encodable` would leave the key out).
@propertyWrapper
struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// A JSON response body with an explicit status (201 for creations).
struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: Body
    /// Where a created resource can be read (`201 Created` answers).
    var location: String? = nil

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try APIJSON.encode(body)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}

/// `{ "data": [...], "next_cursor": null }`, the shape of every list.
struct ListBody<Item: Encodable & Sendable>: Encodable, Sendable {
    var data: [Item]
    @Nullable var nextCursor: String?
}

/// A user as the API shows it.
struct UserBody: Encodable, Sendable {
    var id: String
    var email: String
    var name: String
    var role: String
    @Nullable var sellerStatus: String?
    var createdAt: String

    init(_ user: User) {
        id = user.id
        email = user.email
        name = user.name
        role = user.role.rawValue
        sellerStatus = user.sellerStatus?.rawValue
        createdAt = Timestamp.rfc3339(user.createdAt)
    }
}

/// A personal access token as the API shows it; `token` only in the answer that created it.
struct TokenBody: Encodable, Sendable {
    var id: String
    var name: String
    var scopes: [String]
    var createdAt: String
    var lastUsedAt: String?
    var token: String?

    init(_ record: AccessToken, token: String? = nil) {
        id = record.id
        name = record.name
        scopes = record.scopes.map(\.rawValue)
        createdAt = Timestamp.rfc3339(record.createdAt)
        lastUsedAt = record.lastUsedAt.map(Timestamp.rfc3339)
        self.token = token
    }
}
