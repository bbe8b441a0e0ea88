import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// A stretch of a stored file to send as a response body, and what came of it.
struct FileTransfer: Sendable {
    /// What the sending wrote before it ended: all of it, or less with the error that stopped it.
    struct Outcome: Sendable {
        var sent: Int64
        var failure: (any Error)?
    }

    let file: NIOFileHandle
    let offset: Int64
    let length: Int64
    /// Written by the route as its body; the writer, expecting it, sends the file instead.
    let token: ByteBuffer
    let outcome: EventLoopPromise<Outcome>

    /// Ends a transfer that was never sent: its file closed, its outcome nothing sent.
    func abandon() {
        try? file.close()
        outcome.succeed(.init(sent: 0, failure: FileRegionWriter.NotSent()))
    }
}

/// Sends downloads with the kernel's `sendfile`: the file's pages go from the page cache to the
/// socket without a copy through the process (as nginx does), so one connection is not held
/// back by reading chunks into memory and writing them out again, and many add no memory.
///
/// Hummingbird's response body only carries `ByteBuffer`s, while NIO's HTTP/1 encoder also takes
/// a `FileRegion`. This handler sits in each connection's pipeline, after the codec that turns
/// Hummingbird's HTTP types into NIO's, and waits for a transfer handed to it by `expect(_:)` on
/// the connection's event loop. When the route writes the transfer's token as its body, the
/// token goes no further: the file goes out as regions written below the codec, in order after
/// the head the route wrote before. Every other response passes through untouched (it costs one
/// nil check per body part).
///
/// The regions are written a few at a time, and the next one when one completes. A transfer
/// reports as sent the regions the kernel took whole, plus, when the connection broke, the one it
/// was writing (some of it may have reached the client; a resume is credited what it asks again,
/// so charging it does not cost an honest buyer). The file handle is closed when the last region
/// is done, whether it was written or failed.
final class FileRegionWriter: ChannelDuplexHandler, RemovableChannelHandler {
    // Inbound only to hear that the connection ended (requests pass through untouched).
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// One `sendfile` call sends at most a region (nginx's `sendfile_max_chunk` is 2 MiB). Measured
    /// at 256 MiB: 512 KiB regions sent one connection at 0.75–0.82× of nginx, 2–4 MiB at 0.95–1.07×.
    static let regionLength: Int64 = 4 * 1024 * 1024
    /// Regions queued on the connection at once (the file's pages, not the process's memory).
    static let regionsInFlight = 4

    /// The context of NIO's HTTP/1 codec: writes made from it reach the encoder.
    private var encoderSide: ChannelHandlerContext?
    /// This handler's own context, for the writes it held.
    private var ownSide: ChannelHandlerContext?
    private var expected: FileTransfer?
    private var sending: Sending?
    /// Writes that came while a file was being sent (only if its route stopped waiting for it):
    /// let through after the file, so nothing lands in its middle.
    private var held: [(NIOAny, EventLoopPromise<Void>?)] = []

    private final class Sending {
        let transfer: FileTransfer
        var next: Int64
        let end: Int64
        var inFlight = 0
        var sent: Int64 = 0
        var failure: (any Error)?

        init(_ transfer: FileTransfer) {
            self.transfer = transfer
            self.next = transfer.offset
            self.end = transfer.offset + transfer.length
        }
    }

    struct NotSent: Error, CustomStringConvertible {
        var description: String { "the file was not sent: the connection ended, or the response was never written" }
    }

    init() {}

    /// Takes `transfer` for this connection's next body, unless the connection is gone or still
    /// sending (then false, and the caller keeps the file). Call on the connection's event loop.
    /// A taken transfer's outcome is always completed: by the sending, or with `NotSent` if the
    /// connection ends, or another transfer is taken, before its token is written. The file
    /// handle is the writer's from here on.
    func expect(_ transfer: FileTransfer) -> Bool {
        guard encoderSide != nil, sending == nil else { return false }
        abandonExpected()  // a response that never wrote its body
        expected = transfer
        return true
    }

    func handlerAdded(context: ChannelHandlerContext) {
        encoderSide = try? context.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
        ownSide = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandonExpected()
        encoderSide = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandonExpected()
        encoderSide = nil
        context.fireChannelInactive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let transfer = expected, case .body(let buffer) = unwrapOutboundIn(data), buffer == transfer.token,
            let encoderSide
        {
            expected = nil
            promise?.succeed()
            let sending = Sending(transfer)
            self.sending = sending
            pump(sending, through: encoderSide)
            return
        }
        if sending != nil {
            held.append((data, promise))
            return
        }
        context.write(data, promise: promise)
    }

    private func abandonExpected() {
        guard let transfer = expected else { return }
        expected = nil
        transfer.abandon()
    }

    private func pump(_ sending: Sending, through encoderSide: ChannelHandlerContext) {
        while sending.failure == nil, sending.inFlight < Self.regionsInFlight, sending.next < sending.end {
            let start = sending.next
            let length = min(Self.regionLength, sending.end - start)
            sending.next += length
            sending.inFlight += 1
            let region = FileRegion(fileHandle: sending.transfer.file, readerIndex: Int(start), endIndex: Int(start + length))
            let written = encoderSide.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { result in
                sending.inFlight -= 1
                switch result {
                case .success: sending.sent += length
                case .failure(let error):
                    // NIO fails a connection's pending writes in order: the first is the one cut.
                    if sending.failure == nil {
                        sending.failure = error
                        sending.sent += length
                    }
                }
                self.pump(sending, through: encoderSide)
            }
            encoderSide.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region))), promise: written)
        }
        if sending.inFlight == 0 {
            finish(sending)
        } else {
            encoderSide.flush()
        }
    }

    private func finish(_ sending: Sending) {
        guard self.sending === sending else { return }
        self.sending = nil
        try? sending.transfer.file.close()
        if let ownSide, !held.isEmpty {
            for (data, promise) in held { ownSide.write(data, promise: promise) }
            held = []
            ownSide.flush()
        }
        sending.transfer.outcome.succeed(.init(sent: sending.sent, failure: sending.failure))
    }
}
