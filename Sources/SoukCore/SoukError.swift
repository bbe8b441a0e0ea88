/// The closed set of failures Souk reports to its callers.
///
/// Every error a user can see is one of these codes; the HTTP layer maps each code to a status
/// in one table, the CLI prints `detail`. Anything else is an internal error whose details go to
/// the log only.
public struct SoukError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// The request is malformed: bad JSON, a missing or mistyped field, a bad query parameter.
        case badRequest = "bad_request"
        /// The request is well-formed but a value is not acceptable (too short, unknown option…).
        case validationFailed = "validation_failed"
        /// No valid session or token was presented.
        case unauthenticated
        /// E-mail and password do not match an account.
        case invalidCredentials = "invalid_credentials"
        /// The account exists but has been disabled by an operator.
        case accountDisabled = "account_disabled"
        /// The caller is known but may not do this.
        case forbidden
        /// Public seller sign-up is closed (`[store] marketplace = false`).
        case sellerSignupClosed = "seller_signup_closed"
        /// The HTML form's CSRF token is missing or wrong.
        case csrfFailed = "csrf_failed"
        /// The object does not exist, or the caller may not know it exists.
        case notFound = "not_found"
        /// The method is not allowed on this path.
        case methodNotAllowed = "method_not_allowed"
        /// The change conflicts with the current state (e.g. the e-mail is already registered).
        case conflict
        /// The body is larger than this route accepts.
        case payloadTooLarge = "payload_too_large"
        /// The body's media type is not the one this route accepts.
        case unsupportedMediaType = "unsupported_media_type"
        /// Too many attempts; retry after `retryAfterSeconds`.
        case rateLimited = "rate_limited"
        /// A payment provider (Stripe, PayPal) refused or could not be reached; retrying may help.
        case paymentProviderError = "payment_provider_error"
        /// The data folder's disk is full: nothing was kept; retry once the operator frees space.
        case insufficientStorage = "insufficient_storage"
        /// A failure inside Souk; the log has the details.
        case internalError = "internal_error"
    }

    public var code: Code
    /// A human sentence saying what went wrong and, where useful, what to do.
    public var detail: String
    /// The request field the error is about, when there is one (`email`, `server.port`…).
    public var field: String?
    /// For `rateLimited`: how long until a retry may succeed.
    public var retryAfterSeconds: Int?

    public init(_ code: Code, _ detail: String, field: String? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.detail = detail
        self.field = field
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code.rawValue): \(detail)" }

    public static func notFound(_ what: String) -> SoukError { SoukError(.notFound, "\(what) was not found.") }
    public static func validation(_ field: String, _ detail: String) -> SoukError {
        SoukError(.validationFailed, detail, field: field)
    }
}
