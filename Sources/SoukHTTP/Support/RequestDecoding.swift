import Foundation
import Hummingbird
import SoukCore

extension Request {
    /// Decodes a JSON body into `T`, with errors a client can act on: 415 for another media type,
    /// 413 past `limit` bytes, 400 for malformed JSON or a missing or mistyped field (naming it).
    func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw SoukError(.unsupportedMediaType, "Send the body as JSON with `Content-Type: application/json`.")
        }
        let buffer = try await body.collect(upTo: limit)
        let decoder = JSONDecoder()
        do {
            return try decoder.decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw SoukError.decoding(error)
        }
    }

    /// Decodes an `application/x-www-form-urlencoded` body (already CSRF-checked by the middleware).
    func decodeForm<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let buffer = try await body.collect(upTo: limit)
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: buffer))
        } catch let error as DecodingError {
            throw SoukError.decoding(error)
        }
    }
}

extension SoukError {
    static func decoding(_ error: DecodingError) -> SoukError {
        func name(_ path: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
            let all = path + (key.map { [$0] } ?? [])
            return all.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = name(context.codingPath, key)
            return SoukError(.badRequest, "The field `\(field)` is required.", field: field)
        case .typeMismatch(let type, let context):
            let field = name(context.codingPath)
            return SoukError(.badRequest, "The field `\(field)` must be \(Self.describe(type)).", field: field)
        case .valueNotFound(let type, let context):
            let field = name(context.codingPath)
            return SoukError(.badRequest, "The field `\(field)` must be \(Self.describe(type)), not null.", field: field)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return SoukError(.badRequest, "The body is not valid JSON.")
            }
            let field = name(context.codingPath)
            return SoukError(.badRequest, "The field `\(field)` has an invalid value.", field: field)
        @unknown default:
            return SoukError(.badRequest, "The body could not be read.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: "of another type"
        }
    }
}
