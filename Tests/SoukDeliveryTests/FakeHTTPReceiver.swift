import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A one-thread HTTP/1.1 server on 127.0.0.1 for the webhook sender's tests: records each
/// request (head and body) and answers with a fixed status, headers and body.
final class FakeHTTPReceiver: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let answer: String
    private let lock = NSLock()
    private var _requests: [String] = []

    var requests: [String] { lock.withLock { _requests } }

    init(status: Int, headers: [String] = [], body: String) throws {
        answer =
            "HTTP/1.1 \(status) Answer\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
            + headers.map { "\($0)\r\n" }.joined() + "\r\n" + body
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in serve() }.start()
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)) }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { break }
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            // Read the head, then as much body as Content-Length says.
            while true {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 { break }
                received += buffer[0..<n]
                let text = String(decoding: received, as: UTF8.self)
                guard let end = text.range(of: "\r\n\r\n") else { continue }
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text.utf8.distance(from: text.startIndex, to: end.upperBound) >= length { break }
            }
            lock.withLock { _requests.append(String(decoding: received, as: UTF8.self)) }
            _ = answer.withCString { write(client, $0, strlen($0)) }
            close(client)
        }
        close(listener)
    }
}
