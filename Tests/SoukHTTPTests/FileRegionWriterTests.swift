import Foundation
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Synchronization
import Testing

@testable import SoukHTTP

/// `FileRegionWriter` in a pipeline like a connection's (NIO's HTTP/1 side, the codec to HTTP
/// types, the writer): the token written as a body becomes the file's regions, in order after the
/// head; what a transfer reports as sent; a transfer whose connection ends. The bytes themselves
/// leave by `sendfile` in the end-to-end download tests (Tests/e2e/test_downloads.py).
@Suite("Downloads by sendfile: the connection's file region writer")
struct FileRegionWriterTests {
    static let region = Int(FileRegionWriter.regionLength)

    /// Fails every file region after the first `passing` (a connection that broke mid-file).
    final class BreakingConnection: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        struct Broken: Error {}
        var passing: Int
        init(passing: Int) { self.passing = passing }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .body(.fileRegion) = unwrapOutboundIn(data) {
                if passing == 0 { promise?.fail(Broken()); return }
                passing -= 1
            }
            context.write(data, promise: promise)
        }
    }

    /// The outcome if it is already settled (the embedded loop runs everything at once), so a
    /// transfer left waiting fails the test instead of hanging it.
    func settled(_ transfer: FileTransfer) -> FileTransfer.Outcome? {
        final class Box: Sendable { let outcome = Mutex<FileTransfer.Outcome?>(nil) }
        let box = Box()
        transfer.outcome.futureResult.whenSuccess { outcome in box.outcome.withLock { $0 = outcome } }
        return box.outcome.withLock { $0 }
    }

    /// Takes file regions without answering: the test completes their writes when it wants.
    final class SlowConnection: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        var pending: [EventLoopPromise<Void>] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .body(.fileRegion) = unwrapOutboundIn(data), let promise {
                pending.append(promise)
                context.write(data, promise: nil)
            } else {
                context.write(data, promise: promise)
            }
        }
    }

    func connection(
        breakingAfter passing: Int? = nil, slow: SlowConnection? = nil
    ) throws -> (EmbeddedChannel, FileRegionWriter) {
        let channel = EmbeddedChannel()
        let writer = FileRegionWriter()
        if let passing { try channel.pipeline.syncOperations.addHandler(BreakingConnection(passing: passing)) }
        if let slow { try channel.pipeline.syncOperations.addHandler(slow) }
        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try channel.pipeline.syncOperations.addHandler(writer)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return (channel, writer)
    }

    func transfer(on channel: EmbeddedChannel, file size: Int, offset: Int64, length: Int64) throws -> FileTransfer {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("souk-region-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: size)))
        let file = try NIOFileHandle(_deprecatedPath: path)
        try FileManager.default.removeItem(atPath: path)  // the open handle keeps it readable
        return FileTransfer(
            file: file, offset: offset, length: length, token: ByteBuffer(bytes: (0..<16).map { _ in UInt8.random(in: 0...255) }),
            outcome: channel.eventLoop.makePromise())
    }

    @Test("The token becomes the file's regions after the head; other bodies pass untouched; the outcome is every byte")
    func sendsRegions() throws {
        let (channel, writer) = try connection()
        // More regions than are written at once: the later ones go as the first complete.
        let length = Int64(6 * Self.region + 5)
        let transfer = try transfer(on: channel, file: 7 * Self.region, offset: 3, length: length)
        #expect(writer.expect(transfer))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "not the token, same length.")))
        try channel.writeOutbound(HTTPResponsePart.body(transfer.token))
        try channel.writeOutbound(HTTPResponsePart.end(nil))

        guard case .head(let head)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head first"); return
        }
        #expect(head.status == .ok)
        guard case .body(.byteBuffer(let other))? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("the other body did not pass"); return
        }
        #expect(String(buffer: other) == "not the token, same length.")
        var regions: [(Int, Int)] = []
        while case .body(.fileRegion(let region))? = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            regions.append((region.readerIndex, region.endIndex))
        }
        #expect(regions.map(\.0) == (0..<7).map { 3 + $0 * Self.region })
        #expect(regions.map(\.1) == (1..<7).map { 3 + $0 * Self.region } + [3 + 6 * Self.region + 5])
        let outcome = try #require(settled(transfer))
        #expect(outcome.sent == length)
        #expect(outcome.failure == nil)
        #expect(!transfer.file.isOpen)
        // The next response on the connection is its own: nothing is expected any more.
        try channel.writeOutbound(HTTPResponsePart.body(transfer.token))
        guard case .body(.byteBuffer(let again))? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("a later body was held"); return
        }
        #expect(again == transfer.token)
    }

    @Test("A connection that breaks mid-file: the regions taken whole and the one being written are counted, with the error")
    func brokenMidFile() throws {
        let (channel, writer) = try connection(breakingAfter: 1)
        let transfer = try transfer(on: channel, file: 6 * Self.region, offset: 0, length: Int64(6 * Self.region))
        #expect(writer.expect(transfer))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.body(transfer.token))
        let outcome = try #require(settled(transfer))
        #expect(outcome.sent == Int64(2 * Self.region))
        #expect(outcome.failure is BreakingConnection.Broken)
        #expect(!transfer.file.isOpen)
    }

    @Test("Whatever is written while the file is being sent goes after it (the response's end, if its route stopped waiting)")
    func holdsWritesUntilTheFileIsSent() throws {
        let slow = SlowConnection()
        let (channel, writer) = try connection(slow: slow)
        let transfer = try transfer(on: channel, file: 2 * Self.region, offset: 0, length: Int64(2 * Self.region))
        #expect(writer.expect(transfer))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.body(transfer.token))
        // Not `writeOutbound`, which waits for the write: this one is held until the file is sent.
        channel.writeAndFlush(HTTPResponsePart.end(nil), promise: nil)
        var parts: [String] = []
        func read() throws {
            while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
                switch part {
                case .head: parts.append("head")
                case .body(.fileRegion(let region)): parts.append("region \(region.readerIndex)")
                case .body(.byteBuffer): parts.append("bytes")
                case .end: parts.append("end")
                }
            }
        }
        try read()
        #expect(parts == ["head", "region 0", "region \(Self.region)"])
        #expect(settled(transfer) == nil)
        for promise in slow.pending { promise.succeed() }
        try read()
        #expect(parts == ["head", "region 0", "region \(Self.region)", "end"])
        #expect(try #require(settled(transfer)).sent == Int64(2 * Self.region))
    }

    @Test("A transfer whose connection ends before its token, or that another replaces, ends as not sent and closes its file")
    func abandoned() throws {
        let (channel, writer) = try connection()
        let first = try transfer(on: channel, file: 100, offset: 0, length: 100)
        let second = try transfer(on: channel, file: 100, offset: 0, length: 100)
        #expect(writer.expect(first))
        #expect(writer.expect(second))  // a response that never wrote its body
        let replaced = try #require(settled(first))
        #expect(replaced.sent == 0 && replaced.failure is FileRegionWriter.NotSent)
        #expect(!first.file.isOpen)
        try channel.close().wait()
        let closed = try #require(settled(second))
        #expect(closed.sent == 0 && closed.failure is FileRegionWriter.NotSent)
        #expect(!second.file.isOpen)
        // A closed connection takes no transfer: the route streams the file itself.
        let third = try transfer(on: channel, file: 100, offset: 0, length: 100)
        #expect(!writer.expect(third))
        try third.file.close()
        third.outcome.succeed(.init(sent: 0, failure: nil))
    }
}
