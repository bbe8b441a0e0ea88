import Foundation
import Testing

@testable import SoukMail

@Suite("Outbox")
struct OutboxMailerTests {
    let directory: String

    init() {
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("souk-outbox-\(UUID().uuidString)/outbox")
    }

    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    func message(id: String = "receipt-ord_1@souk", date: TimeInterval = 1_795_514_400, text: String = "Thank you.")
        -> MailMessage
    {
        MailMessage(
            from: "Souk <store@example.com>", to: "buyer@example.com", subject: "Ihre Quittung für Bücher", text: text,
            messageID: id, date: Date(timeIntervalSince1970: date))
    }

    @Test("Creates the folder and writes <yyyyMMdd-HHmmss>-<id>.eml that parses back")
    func writes() async throws {
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let outbox = OutboxMailer(directory: directory)
        try await outbox.send(message(text: "Grüße,\nDownload: https://souk.example/d/abc?x=1"))
        #expect(try files() == ["20261124-100000-receipt-ord_1@souk.eml"])
        let path = (directory as NSString).appendingPathComponent("20261124-100000-receipt-ord_1@souk.eml")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == (try message(text: "Grüße,\nDownload: https://souk.example/d/abc?x=1").rendered()))
        let parsed = ParsedMail(text)
        #expect(parsed.header("To") == "buyer@example.com")
        #expect(parsed.header("Message-ID") == "<receipt-ord_1@souk>")
        #expect(parsed.decoded("Subject") == "Ihre Quittung für Bücher")
        #expect(parsed.body == "Grüße,\r\nDownload: https://souk.example/d/abc?x=1\r\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test("The same message ID again replaces its file, also with another date; other IDs are kept")
    func overwrites() async throws {
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let outbox = OutboxMailer(directory: directory)
        try await outbox.send(message(text: "first"))
        try await outbox.send(message(text: "second"))
        try await outbox.send(message(id: "receipt-ord_2@souk", text: "other"))
        #expect(try files() == ["20261124-100000-receipt-ord_1@souk.eml", "20261124-100000-receipt-ord_2@souk.eml"])
        try await outbox.send(message(date: 1_795_514_461, text: "third"))
        #expect(try files() == ["20261124-100000-receipt-ord_2@souk.eml", "20261124-100101-receipt-ord_1@souk.eml"])
        let text = try String(
            contentsOfFile: (directory as NSString).appendingPathComponent("20261124-100101-receipt-ord_1@souk.eml"),
            encoding: .utf8)
        #expect(ParsedMail(text).body == "third\r\n")
        // An older date written later does not bring back a second file: the latest date is kept.
        let path = try outbox.write(message(date: 1_795_514_400, text: "fourth"))
        #expect((path as NSString).lastPathComponent == "20261124-100101-receipt-ord_1@souk.eml")
        #expect(try files() == ["20261124-100000-receipt-ord_2@souk.eml", "20261124-100101-receipt-ord_1@souk.eml"])
    }

    @Test("Writes are atomic: no temporary files remain, and concurrent writers of one ID leave one whole file")
    func atomic() async throws {
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let outbox = OutboxMailer(directory: directory)
        let big = String(repeating: "Zeile mit Umlauten äöü und mehr Text.\n", count: 2000)
        let expected = try Set((0..<8).map { try message(text: "\($0)\n" + big).rendered() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                let m = message(text: "\(i)\n" + big)
                group.addTask { try await outbox.send(m) }
            }
            try await group.waitForAll()
        }
        let names = try files()
        #expect(names == ["20261124-100000-receipt-ord_1@souk.eml"])
        let text = try String(contentsOfFile: (directory as NSString).appendingPathComponent(names[0]), encoding: .utf8)
        #expect(expected.contains(text))
    }

    @Test("Message IDs become safe file names; different IDs never share one")
    func sanitised() async throws {
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        #expect(OutboxMailer.fileName(forMessageID: "receipt-ord_1@souk") == "receipt-ord_1@souk")
        let slash = OutboxMailer.fileName(forMessageID: "../../etc/passwd@x")
        #expect(!slash.contains("/") && !slash.hasPrefix("."))
        #expect(OutboxMailer.fileName(forMessageID: "a/b@x") != OutboxMailer.fileName(forMessageID: "a_b@x"))
        #expect(OutboxMailer.fileName(forMessageID: "a/b@x") != OutboxMailer.fileName(forMessageID: "a?b@x"))
        #expect(OutboxMailer.fileName(forMessageID: String(repeating: "x", count: 500) + "@souk").count <= 130)
        let outbox = OutboxMailer(directory: directory)
        let path = try outbox.write(message(id: "../../escape@souk"))
        #expect((path as NSString).deletingLastPathComponent == directory)
        #expect(try files().count == 1)
    }

    @Test("A message that cannot be rendered writes nothing")
    func invalidWritesNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        var bad = message()
        bad.to = "buyer@example.com\r\nBcc: x@example.com"
        await #expect(throws: MailError.self) { try await OutboxMailer(directory: directory).send(bad) }
        let leftovers = FileManager.default.fileExists(atPath: directory) ? try files() : []
        #expect(leftovers.isEmpty)
    }

    @Test("An unwritable outbox is a readable error")
    func unwritable() async throws {
        let file = (NSTemporaryDirectory() as NSString).appendingPathComponent("souk-not-a-dir-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: file) }
        let error = await #expect(throws: MailError.self) {
            try await OutboxMailer(directory: (file as NSString).appendingPathComponent("outbox")).send(message())
        }
        #expect(error?.kind == .outbox)
        #expect(error?.description.contains(file) == true)
    }
}
