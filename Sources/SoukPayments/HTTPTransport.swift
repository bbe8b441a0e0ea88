import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An outgoing HTTP request to a provider's API.
public struct OutgoingRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: Data?
    /// false: a 3xx is the answer, not followed (a fetch that must come from this very URL).
    public var followsRedirects: Bool

    public init(
        method: String, url: URL, headers: [String: String] = [:], body: Data? = nil, followsRedirects: Bool = true
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.followsRedirects = followsRedirects
    }
}

public struct IncomingResponse: Sendable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }
}

/// Sends requests to providers. The production transport is URLSession, which on Linux is
/// libcurl underneath (FoundationNetworking); tests point the providers' base URLs at fakes.
public protocol HTTPTransport: Sendable {
    func send(_ request: OutgoingRequest) async throws -> IncomingResponse
}

public struct URLSessionTransport: HTTPTransport {
    public var timeout: TimeInterval

    /// A session whose delegate turns down redirects. A session's, not a task's: on Linux,
    /// FoundationNetworking ignores the delegate passed to `data(for:delegate:)` for redirects.
    private static let refusingRedirects = URLSession(
        configuration: .ephemeral, delegate: RefuseRedirects(), delegateQueue: nil)

    public init(timeout: TimeInterval = 30) { self.timeout = timeout }

    public func send(_ request: OutgoingRequest) async throws -> IncomingResponse {
        var urlRequest = URLRequest(url: request.url, timeoutInterval: timeout)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let session = request.followsRedirects ? URLSession.shared : Self.refusingRedirects
        let (data, response) = try await session.data(for: urlRequest)
        return IncomingResponse(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }
}

/// A session delegate that turns down every redirect, so the 3xx itself is the response.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// `application/x-www-form-urlencoded` with Stripe's nested keys (`line_items[0][quantity]`).
public enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
