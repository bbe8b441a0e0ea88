import Hummingbird
import Logging
import NIOEmbedded
import Testing

@testable import SoukHTTP

@Suite("Request ids")
struct RequestIDTests {
    func context(id: String) -> SoukRequestContext {
        var logger = Logger(label: "test")
        logger[metadataKey: "hb.request.id"] = .string(id)
        return SoukRequestContext(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: logger))
    }

    @Test("Every request id is 32 hex digits, also when Hummingbird's random first half lost its leading zero")
    func thirtyTwoDigits() {
        // As Hummingbird writes it in one process in sixteen: the first half without its leading 0.
        #expect(context(id: "5bb0b43d2f6baaff985e9cfe5cf26b5").id == "05bb0b43d2f6baaff985e9cfe5cf26b5")
        #expect(context(id: "c5bb0b43d2f6baaff985e9cfe5cf26b5").id == "c5bb0b43d2f6baaff985e9cfe5cf26b5")
    }
}
