import Foundation
import Hummingbird
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SoukCore
import SoukDatabase
import SoukDelivery
import Synchronization

/// `GET|HEAD /download/{grant}/{file}?expires=…&sig=…`: the signed links of the library.
/// No session is needed: the link is the credential, so it is short-lived (`delivery.link_ttl_seconds`).
///
/// Checks, in order: the signature and expiry (403), the grant is still active — a full refund
/// or a lost dispute revokes it (403) —, the file belongs to the grant's product (404), then the
/// download limit (403).
///
/// The limit counts bytes served (`DownloadBudget`): a purchase with a limit of N may be served
/// N × the file's size, split any way (whole downloads, ranges from any offset, resumes,
/// parallel segments). Before any byte is sent, the request's bytes are reserved against that
/// budget in one transaction (`AppDatabase.reserveDownload`), so parallel requests cannot
/// overspend; past it the link answers 403 "Download limit reached". A request without a usable
/// `Range` needs the whole file to fit; a `Range` is served while any budget is left, clamped to
/// it. When the transfer ends, what was not written (the client went away) is given back, and a
/// resume of a cut-short transfer credits that transfer what it asks again, so an interrupted
/// download and its resume count the file once. Every such request is logged with its bytes,
/// the client's IP and user agent. A `HEAD` is never charged nor refused for the limit.
///
/// The body streams from the blob on disk in 64 KiB chunks: Hummingbird's `FileIO` reads them
/// (NIO's file system, a read-ahead of at most 8 chunks that waits for the consumer) and
/// `PacedBodyWriter` writes them so that the socket's backpressure actually holds (see there).
/// Memory per download stays around a megabyte or two whatever the file size: 8 parallel 1 GiB
/// downloads add a few MB of RSS (Tests/e2e/test_downloads.py).
struct DownloadRoutes: Sendable {
    let services: AppServices

    static let chunkLength = 64 * 1024
    /// A download with no other under way reads this much at a time: a lone transfer is
    /// held back by the hops per chunk (a read on NIO's thread pool, a write through the
    /// channel), not by memory; a crowd keeps to `chunkLength`, so memory stays bounded.
    static let loneChunkLength = 256 * 1024
    /// Chunks a download may write between two waits for the event loops (see `PacedBodyWriter`).
    static let chunksPerPace = 8
    /// Transfers writing at this moment (read when a download starts, to choose its chunks).
    static let transfers = Atomic<Int>(0)

    static func chunkLength(transfersUnderWay: Int) -> Int {
        transfersUnderWay == 0 ? loneChunkLength : chunkLength
    }
    /// The loops of the group `buildApplication`'s server runs on (Hummingbird's default).
    static let eventLoops: [any EventLoop] = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())

    func register(on router: Router<SoukRequestContext>) {
        router.get("download/:grant/:file", use: download)
        // Registered explicitly: Hummingbird's automatic HEAD would run the GET and count it.
        router.head("download/:grant/:file", use: download)
    }

    @Sendable func download(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()  // the signed link is the credential
        let grantID = try context.parameters.require("grant")
        let fileID = try context.parameters.require("file")
        let query = request.uri.queryParameters
        do {
            try services.downloadLinks.verify(
                method: request.method.rawValue, path: request.uri.path, expires: query.get("expires"),
                sig: query.get("sig"))
        } catch {
            throw SoukError(.forbidden, "This download link cannot be used: \(error). Get a fresh link from your library.")
        }
        let (grant, file, limit) = try await services.library.downloadable(grantID: grantID, fileID: fileID)
        let path = try services.blobs.path(sha256: file.sha256)
        guard let size = Self.fileSize(path) else {
            throw SoukError(.internalError, "The stored file \(path) of \(file.id) is missing or unreadable.")
        }

        let etag = "\"\(file.sha256)\""
        var plan = ByteRanges.parse(request.headers[.range], size: size)
        // If-Range: the range holds only for this exact representation; otherwise send it all.
        if plan != .whole, let ifRange = request.headers[.ifRange],
            ifRange.trimmingCharacters(in: .whitespaces) != etag
        {
            plan = .whole
        }

        var headers: HTTPFields = [:]
        headers[.contentType] = Self.mediaType(for: file.name)
        headers[.contentDisposition] = Self.contentDisposition(file.name)
        headers[.eTag] = etag
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "private, no-store"

        var range: ClosedRange<Int64>?
        switch plan {
        case .unsatisfiable:
            headers[.contentRange] = ByteRanges.unsatisfiedRange(size: size)
            return rangeNotSatisfiable(request, context: context, size: size, headers: headers)
        case .whole: range = nil
        case .partial(let partial): range = partial
        }

        var reservation: DownloadReservation?
        if request.method == .get {
            let reserved = try await services.library.reserve(
                grant, file: file, limit: limit, fileSize: size, range: range, ip: services.clientAddress.ip(request, context),
                userAgent: request.headers[.userAgent])
            range = reserved.range  // the budget may clamp a range
            reservation = reserved
            context.logger.info(
                "download",
                metadata: [
                    "grant": "\(grant.id)", "file": "\(file.id)", "bytes": "\(reserved.reserved)",
                    "left": "\(reserved.budget.bytesLeft.map(String.init) ?? "unlimited")",
                ])
        }

        let status: HTTPResponse.Status
        let length: Int64
        if let range {
            status = .partialContent
            length = range.upperBound - range.lowerBound + 1
            headers[.contentRange] = ByteRanges.contentRange(range, size: size)
        } else {
            status = .ok
            length = size
        }
        headers[.contentLength] = String(length)
        guard request.method == .get, length > 0, let reservation else {
            if let reservation { try await services.library.settle(reservation, sent: 0) }
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        let first = Int64(range?.lowerBound ?? 0)
        let library = services.library
        let logger = context.logger
        let channel = context.channel
        if let transfer = await Self.handOver(path: path, offset: first, length: length, on: channel) {
            let body = ResponseBody(contentLength: Int(length)) { writer in
                // Only the token goes through Hummingbird; the connection's writer sends the file.
                // The outcome always settles once the connection is closed, so a token that could
                // not be written, or a cancelled response (the server stopping), closes it.
                let outcome = try await withTaskCancellationHandler {
                    do { try await writer.write(transfer.token) } catch { try? await channel.close() }
                    return try await transfer.outcome.futureResult.get()
                } onCancel: {
                    channel.close(promise: nil)
                }
                await Self.settle(reservation, sent: outcome.sent, by: .sendfile, library: library, logger: logger)
                if let failure = outcome.failure { throw failure }
            }
            return Response(status: status, headers: headers, body: body)
        }
        let chunkLength = Self.chunkLength(transfersUnderWay: Self.transfers.load(ordering: .relaxed))
        let contents: ResponseBody
        do {
            contents = try await FileIO().loadFile(
                path: path, range: Int(first)...Int(first + length - 1), context: context, chunkLength: chunkLength)
        } catch {
            try? await services.library.settle(reservation, sent: 0)
            throw error
        }
        let body = ResponseBody(contentLength: Int(length)) { writer in
            let sent = SentBytes()
            Self.transfers.add(1, ordering: .relaxed)
            defer { Self.transfers.subtract(1, ordering: .relaxed) }
            do {
                try await contents.write(
                    CountingBodyWriter(
                        PacedBodyWriter(writer, loops: Self.eventLoops, every: Self.chunksPerPace * chunkLength), sent: sent))
            } catch {
                await Self.settle(reservation, sent: sent.value, by: .chunks, library: library, logger: logger)
                throw error
            }
            await Self.settle(reservation, sent: sent.value, by: .chunks, library: library, logger: logger)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Hands the stretch of the file to the connection's `FileRegionWriter` (sent with
    /// `sendfile`), or nil when the connection has none (Hummingbird's router test framework, a
    /// server built without it) or the file cannot be opened: the body then streams in chunks.
    private static func handOver(path: String, offset: Int64, length: Int64, on channel: any Channel) async -> FileTransfer? {
        guard let file = openForSending(path) else { return nil }
        let transfer = FileTransfer(
            file: file, offset: offset, length: length, token: ByteBuffer(bytes: RandomText.bytes(16)),
            outcome: channel.eventLoop.makePromise())
        let taken = try? await channel.eventLoop.submit { () -> Bool in
            guard let writer = try? channel.pipeline.syncOperations.handler(type: FileRegionWriter.self) else { return false }
            return writer.expect(transfer)
        }.get()
        guard taken == true else {
            transfer.abandon()
            return nil
        }
        return transfer
    }

    /// Opens a blob for `sendfile` (NIO marks the blocking `open` unavailable in async code; a
    /// blob's `open` is a metadata lookup the `stat` before it just made).
    private static func openForSending(_ path: String) -> NIOFileHandle? {
        try? NIOFileHandle(_deprecatedPath: path)
    }

    /// How a download's bytes left: counted in `souk_download_bytes{by=…}` on `/metrics`, the
    /// bandwidth an operator pays for — what each transfer was charged: for `sendfile`, to the
    /// region, so a broken connection may count up to one region (4 MiB) not received.
    enum SentBy: String {
        /// By the kernel from the page cache (`FileRegionWriter`).
        case sendfile
        /// Read into memory and written in chunks (a connection without the writer).
        case chunks
    }

    /// Records what a transfer wrote, giving back what it did not. In a task of its own: the
    /// response's task may be cancelled (the client went away), and the write must still happen.
    private static func settle(
        _ reservation: DownloadReservation, sent: Int64, by way: SentBy, library: LibraryService, logger: Logger
    ) async {
        Counter(label: "souk.download.bytes", dimensions: [("by", way.rawValue)]).increment(by: sent)
        do {
            try await Task { try await library.settle(reservation, sent: sent) }.value
        } catch {
            logger.error("could not settle a download", metadata: ["download": "\(reservation.id)", "error": "\(error)"])
        }
        if sent < reservation.reserved {
            logger.info("download cut short", metadata: ["download": "\(reservation.id)", "sent": "\(sent)"])
        }
    }

    private func rangeNotSatisfiable(
        _ request: Request, context: SoukRequestContext, size: Int64, headers: HTTPFields
    ) -> Response {
        var problem = Problem(
            SoukError(.badRequest, "The requested range is outside the file, which is \(size) bytes long."),
            path: request.uri.path, requestID: context.id)
        problem.type = "urn:souk:problem:range_not_satisfiable"
        problem.title = "Range not satisfiable"
        problem.code = "range_not_satisfiable"
        problem.status = Int(HTTPResponse.Status.rangeNotSatisfiable.code)
        var response = problem.response(retryAfter: nil)
        for field in headers where field.name != .contentType { response.headers[field.name] = field.value }
        if request.method == .head { response.body = ResponseBody() }
        return response
    }

    static func fileSize(_ path: String) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            (attributes[.type] as? FileAttributeType) == .typeRegular,
            let size = (attributes[.size] as? NSNumber)?.int64Value
        else { return nil }
        return size
    }

    /// The type by extension, or `application/octet-stream`. Types a browser would run or render
    /// as a page (HTML, SVG, XML, scripts) are sent as octet-stream: a download is never a page of
    /// this origin, even if something ignored `attachment` and `nosniff`.
    static func mediaType(for name: String) -> String {
        let ext = (name as NSString).pathExtension.lowercased()
        guard !ext.isEmpty, let type = MediaType.getMediaType(forExtension: ext) else { return "application/octet-stream" }
        let active: Set<String> = [
            "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript",
            "application/javascript", "application/ecmascript", "text/ecmascript",
        ]
        if active.contains("\(type.type)/\(type.subType)".lowercased()) { return "application/octet-stream" }
        return type.description
    }

    /// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback with quotes,
    /// backslashes, `%` and control or non-ASCII characters replaced by `_`, and the exact name
    /// percent-encoded (RFC 8187 attr-chars left as they are).
    static func contentDisposition(_ name: String) -> String {
        let fallback = String(
            String.UnicodeScalarView(
                name.unicodeScalars.map { scalar in
                    scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F && !"\"\\%".unicodeScalars.contains(scalar)
                        ? scalar : "_"
                }))
        let encoded = name.utf8.map { byte -> String in
            let attrChar =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "!#$&+-.^_`|~".utf8.contains(byte)
            return attrChar ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }.joined()
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}

/// How many bytes a response body handed to the connection (written, not necessarily received).
final class SentBytes: Sendable {
    private let count = NIOLockedValueBox<Int64>(0)
    var value: Int64 { count.withLockedValue { $0 } }
    func add(_ bytes: Int) { count.withLockedValue { $0 += Int64(bytes) } }
}

/// Counts what its parent accepted into `sent`.
struct CountingBodyWriter: ResponseBodyWriter {
    private var parent: any ResponseBodyWriter
    private let sent: SentBytes

    init(_ parent: any ResponseBodyWriter, sent: SentBytes) {
        self.parent = parent
        self.sent = sent
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        try await parent.write(buffer)
        sent.add(buffer.readableBytes)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await parent.finish(trailingHeaders)
    }
}

/// Backpressure for a streamed response body.
///
/// Hummingbird's response writer hands each buffer to the connection's event loop with an
/// asynchronous hop (`NIOAsyncChannelOutboundWriter` → `eventLoop.execute`) and returns at once;
/// it only waits while the channel is not writable, and the channel's writability changes only
/// when the loop has run those hops. A producer that reads faster than a busy loop writes (a
/// file in the page cache, many parallel downloads) thus queues chunks on the loop without
/// bound: 8 parallel 1 GiB downloads grew the server's RSS by ~700 MB with `FileIO` alone (the
/// same holds for Hummingbird's `FileMiddleware`).
///
/// Every `every` bytes this writer waits until each event loop has run what was queued before
/// (a loop runs its tasks in order), so all earlier writes have reached the channel and its
/// writability is current: the next `write` then really waits for the socket. What a download
/// has in flight is bounded by `every` plus the channel's write buffer. The loops are those of
/// the whole group, since a handler does not know its connection's loop; with one loop per
/// core, that is a handful of no-op tasks per 256 KiB written.
struct PacedBodyWriter: ResponseBodyWriter {
    private var parent: any ResponseBodyWriter
    private let loops: [any EventLoop]
    private let every: Int
    private var unpaced = 0

    init(_ parent: any ResponseBodyWriter, loops: [any EventLoop], every: Int) {
        self.parent = parent
        self.loops = loops
        self.every = every
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        try await parent.write(buffer)
        unpaced += buffer.readableBytes
        if unpaced >= every {
            unpaced = 0
            let barriers = loops.map { $0.submit {} }
            for barrier in barriers { try await barrier.get() }
        }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await parent.finish(trailingHeaders)
    }
}
