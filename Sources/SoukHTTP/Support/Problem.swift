import Foundation
import Hummingbird
import SoukCore

/// The one table from `SoukError.Code` to HTTP status and title.
enum ProblemMapping {
    static func status(for code: SoukError.Code) -> HTTPResponse.Status {
        switch code {
        case .badRequest: .badRequest
        case .validationFailed: .unprocessableContent
        case .unauthenticated, .invalidCredentials: .unauthorized
        case .accountDisabled, .forbidden, .sellerSignupClosed, .csrfFailed: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .rateLimited: .tooManyRequests
        case .paymentProviderError: .badGateway
        case .insufficientStorage: .init(code: 507, reasonPhrase: "Insufficient Storage")
        case .internalError: .internalServerError
        }
    }

    static func title(for code: SoukError.Code) -> String {
        switch code {
        case .badRequest: "Bad request"
        case .validationFailed: "Invalid value"
        case .unauthenticated: "Sign-in required"
        case .invalidCredentials: "Wrong e-mail or password"
        case .accountDisabled: "Account disabled"
        case .forbidden: "Not allowed"
        case .sellerSignupClosed: "Seller sign-up is closed"
        case .csrfFailed: "Form expired"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .conflict: "Conflict"
        case .payloadTooLarge: "Request too large"
        case .unsupportedMediaType: "Unsupported media type"
        case .rateLimited: "Too many requests"
        case .paymentProviderError: "Payment provider error"
        case .insufficientStorage: "Insufficient storage"
        case .internalError: "Internal error"
        }
    }

    /// Translates Hummingbird's own errors (unknown route, body too large…) into Souk's codes.
    static func soukError(from error: HTTPError) -> SoukError {
        switch error.status {
        case .notFound: SoukError(.notFound, "There is nothing at this address.")
        case .methodNotAllowed: SoukError(.methodNotAllowed, "This address does not accept that method.")
        case .contentTooLarge: SoukError(.payloadTooLarge, "The request body is larger than this route accepts.")
        case .unsupportedMediaType: SoukError(.unsupportedMediaType, error.body ?? "Unsupported media type.")
        case .badRequest: SoukError(.badRequest, error.body ?? "The request is malformed.")
        default:
            error.status.code < 500
                ? SoukError(.badRequest, error.body ?? error.status.reasonPhrase)
                : SoukError(.internalError, "Something went wrong inside Souk. The log has the details.")
        }
    }
}

/// An RFC 9457 problem document.
struct Problem: Encodable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var code: String
    var field: String?
    var instance: String
    var requestID: String

    init(_ error: SoukError, path: String, requestID: String) {
        let status = ProblemMapping.status(for: error.code)
        self.type = "urn:souk:problem:\(error.code.rawValue)"
        self.title = ProblemMapping.title(for: error.code)
        self.status = Int(status.code)
        self.detail = error.detail
        self.code = error.code.rawValue
        self.field = error.field
        self.instance = path
        self.requestID = requestID
    }

    func response(retryAfter: Int?) -> Response {
        let data = (try? APIJSON.encode(self)) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
