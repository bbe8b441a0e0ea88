import Testing

@testable import SoukHTTP

@Suite("Request log")
struct RequestLogTests {
    @Test("A sign-in link's token never reaches the log; other paths are logged as they are")
    func redaction() {
        #expect(RequestLogMiddleware.loggable("/magic/AbCdEf0123456789AbCdEf0123456789AbCdEf01234") == "/magic/<token>")
        #expect(RequestLogMiddleware.loggable("/api/v1/orders/ord_1") == "/api/v1/orders/ord_1")
    }
}
