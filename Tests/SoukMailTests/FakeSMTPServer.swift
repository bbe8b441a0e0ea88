import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A scripted SMTP server on 127.0.0.1 for tests: one thread, one connection at a time.
final class FakeSMTPServer: @unchecked Sendable {
    enum Mode { case accept, rejectRecipient, silent }

    struct Received: Sendable {
        var mailFrom: String
        var rcptTo: [String]
        var data: String
        var auth: String?
    }

    let port: UInt16
    private let listener: Int32
    private let mode: Mode
    private let lock = NSLock()
    private var _received: [Received] = []
    private var _commands: [String] = []
    private var stopped = false

    var received: [Received] { lock.withLock { _received } }
    var commands: [String] { lock.withLock { _commands } }

    init(mode: Mode = .accept) throws {
        self.mode = mode
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
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        if wasStopped { return }
        // Only shut down: the serving thread closes the descriptor when accept() fails, so it
        // can never accept on a reused descriptor number that now belongs to another server.
        shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit { stop() }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            if lock.withLock({ stopped }) {
                close(connection)
                return
            }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ fd: Int32) {
        var buffer: [UInt8] = []
        func send(_ line: String) { _ = line.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
        func readLine() -> String? {
            while true {
                if let index = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[..<index], as: UTF8.self)
                    buffer.removeSubrange(...index)
                    return line.hasSuffix("\r") ? String(line.dropLast()) : line
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &chunk, chunk.count, 0)
                if n <= 0 { return nil }
                buffer += chunk[..<n]
            }
        }
        if mode == .silent {
            // Never greet; wait for the client to give up.
            _ = readLine()
            return
        }
        send("220 fake.test ESMTP\r\n")
        var current = Received(mailFrom: "", rcptTo: [], data: "")
        while let line = readLine() {
            lock.withLock { _commands.append(line) }
            let upper = line.uppercased()
            if upper.hasPrefix("EHLO") {
                send("250-fake.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
            } else if upper.hasPrefix("HELO") {
                send("250 fake.test\r\n")
            } else if upper.hasPrefix("AUTH PLAIN") {
                let rest = line.dropFirst("AUTH PLAIN".count).trimmingCharacters(in: .whitespaces)
                if rest.isEmpty {
                    send("334 \r\n")
                    current.auth = readLine()
                } else {
                    current.auth = rest
                }
                send("235 2.7.0 Authentication successful\r\n")
            } else if upper.hasPrefix("MAIL FROM:") {
                current.mailFrom = String(line.dropFirst("MAIL FROM:".count)).components(separatedBy: " ")[0]
                send("250 OK\r\n")
            } else if upper.hasPrefix("RCPT TO:") {
                if mode == .rejectRecipient {
                    send("550 5.1.1 No such user here\r\n")
                } else {
                    current.rcptTo.append(String(line.dropFirst("RCPT TO:".count)))
                    send("250 OK\r\n")
                }
            } else if upper == "DATA" {
                send("354 End data with <CR><LF>.<CR><LF>\r\n")
                var lines: [String] = []
                while let dataLine = readLine(), dataLine != "." {
                    lines.append(dataLine.hasPrefix(".") ? String(dataLine.dropFirst()) : dataLine)
                }
                current.data = lines.map { $0 + "\r\n" }.joined()
                let finished = current
                lock.withLock { _received.append(finished) }
                current = Received(mailFrom: "", rcptTo: [], data: "")
                send("250 OK queued\r\n")
            } else if upper == "QUIT" {
                send("221 Bye\r\n")
                return
            } else if upper == "RSET" || upper == "NOOP" {
                send("250 OK\r\n")
            } else {
                send("502 Command not implemented\r\n")
            }
        }
    }
}

/// A local port nothing listens on: bound (so no other test can take it) but not listening, so
/// connections are refused. The port is released when this is deallocated.
final class ClosedPort: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32

    init() {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let fd = fd
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}
