import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// A JSON response body with an explicit status (201 for creations).
struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: Body

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(body)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}

/// `{ "data": [...], "next_cursor": null }`, the shape of every list.
struct ListBody<Item: Encodable & Sendable>: Encodable, Sendable {
    var data: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        try container.encode(nextCursor, forKey: .nextCursor)  // explicit null: "no more pages"
    }
}

/// A user as the API shows it.
struct UserBody: Encodable, Sendable {
    var id: String
    var email: String
    var name: String
    var role: String
    var sellerStatus: String?
    var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, email, name, role
        case sellerStatus = "seller_status"
        case createdAt = "created_at"
    }

    init(_ user: User) {
        id = user.id
        email = user.email
        name = user.name
        role = user.role.rawValue
        sellerStatus = user.sellerStatus?.rawValue
        createdAt = Timestamp.rfc3339(user.createdAt)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(sellerStatus, forKey: .sellerStatus)
        try container.encode(createdAt, forKey: .createdAt)
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

    enum CodingKeys: String, CodingKey {
        case id, name, scopes, token
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
    }

    init(_ record: AccessToken, token: String? = nil) {
        id = record.id
        name = record.name
        scopes = record.scopes.map(\.rawValue)
        createdAt = Timestamp.rfc3339(record.createdAt)
        lastUsedAt = record.lastUsedAt.map(Timestamp.rfc3339)
        self.token = token
    }
}
