import Foundation
import SoukCore
import Testing

@testable import SoukMail

@Suite("SMTP through libcurl")
struct SMTPMailerTests {
    let message = MailMessage(
        from: "Souk <store@example.com>", to: "Buyer <buyer@example.com>", replyTo: "help@example.com",
        subject: "Reçu n° 1", text: "Merci !\n.\nLine with trailing space \n" + String(repeating: "é", count: 100),
        messageID: "receipt-ord_1@souk", date: Date(timeIntervalSince1970: 1_795_514_400))

    @Test("Redaction hides user and password, keeps scheme, host, port and path")
    func redaction() {
        #expect(SMTPMailer.redact("smtp://user:s3cret@mail.example.com:587") == "smtp://***@mail.example.com:587")
        #expect(SMTPMailer.redact("smtps://me%40x.com:p%40ss@smtp.x.com:465/souk.example") == "smtps://***@smtp.x.com:465/souk.example")
        #expect(SMTPMailer.redact("smtp://me@x.com:p@ss@mail.x.com") == "smtp://***@mail.x.com")
        #expect(SMTPMailer.redact("smtp://mail.example.com:25") == "smtp://mail.example.com:25")
        let mailer = SMTPMailer(url: "smtp://user:s3cret@mail.example.com:587")
        #expect(mailer.server == "smtp://***@mail.example.com:587")
        #expect(!"\(mailer)".contains("s3cret"))
        #expect(!String(reflecting: mailer).contains("s3cret"))
        var dumped = ""
        dump(mailer, to: &dumped)
        #expect(!dumped.contains("s3cret"))
    }

    @Test("TLS is required for credentials to a remote host, not for loopback or without credentials")
    func tlsPolicy() {
        #expect(SMTPMailer(url: "smtp://u:p@mail.example.com:587").requireTLS)
        #expect(!SMTPMailer(url: "smtp://mail.example.com:25").requireTLS)
        #expect(!SMTPMailer(url: "smtp://u:p@127.0.0.1:2525").requireTLS)
        #expect(!SMTPMailer(url: "smtp://u:p@localhost:2525").requireTLS)
        #expect(!SMTPMailer(url: "smtp://u:p@[::1]:2525").requireTLS)
        #expect(!SMTPMailer(url: "smtps://u:p@mail.example.com:465").requireTLS)
        #expect(!SMTPMailer(url: "smtp://u:p@mail.example.com:587", requireTLS: false).requireTLS)
    }

    @Test("A closed port fails at once (refused, not timed out) with the server (redacted) and a readable reason")
    func closedPortFails() async throws {
        let closed = ClosedPort()
        let port = closed.port
        let mailer = SMTPMailer(url: "smtp://store:hunter2secret@127.0.0.1:\(port)", timeout: .seconds(30))
        let error = await #expect(throws: MailError.self) { try await mailer.send(message) }
        let description = try #require(error?.description)
        #expect(error?.kind == .smtp)
        #expect(error?.curlCode == 7)  // CURLE_COULDNT_CONNECT: refused at once (a hang would be 28, timed out)
        #expect(error?.isPermanent == false)
        #expect(description.contains("smtp://***@127.0.0.1:\(port)"))
        #expect(description.lowercased().contains("connect"))
        #expect(description.contains("receipt-ord_1@souk"))
        #expect(!description.contains("hunter2secret"))
        #expect(!description.contains("store:"))
        withExtendedLifetime(closed) {}
    }

    @Test("A server that never answers hits the configured timeout")
    func timeout() async throws {
        let server = try FakeSMTPServer(mode: .silent)
        defer { server.stop() }
        let mailer = SMTPMailer(url: "smtp://127.0.0.1:\(server.port)", timeout: .seconds(1))
        let error = await #expect(throws: MailError.self) { try await mailer.send(message) }
        #expect(error?.curlCode == 28)  // CURLE_OPERATION_TIMEDOUT
        // The 1 s setting was the one used (not the 30 s default). Not timed by the wall clock:
        // on a loaded machine the transfer may wait for a thread of the mail queue first.
        #expect(error?.description.contains("(timeout 1.0 seconds)") == true, "\(String(describing: error))")
    }

    @Test("A non-SMTP URL is refused before libcurl sees it")
    func wrongScheme() async {
        for url in ["file:///tmp/x.eml", "http://u:pw@example.com/", "mail.example.com:25", "smtp://"] {
            let error = await #expect(throws: MailError.self) { try await SMTPMailer(url: url).send(message) }
            #expect(error?.kind == .configuration)
            #expect(error?.description.contains("pw") == false)
        }
    }

    @Test("An unencoded @ in the user name is refused by libcurl with a hint, without the password")
    func malformedURL() async throws {
        let mailer = SMTPMailer(url: "smtp://store@example.com:pw-secret@127.0.0.1:25", timeout: .seconds(5))
        let error = await #expect(throws: MailError.self) { try await mailer.send(message) }
        #expect(error?.curlCode == 3)  // CURLE_URL_MALFORMAT
        #expect(error?.description.contains("%40") == true)
        #expect(error?.description.contains("pw-secret") == false)
    }

    @Test("An accepted message arrives intact with the bare envelope addresses and credentials")
    func delivers() async throws {
        let server = try FakeSMTPServer()
        defer { server.stop() }
        let mailer = SMTPMailer(url: "smtp://store%40example.com:pa%3Ass@127.0.0.1:\(server.port)", timeout: .seconds(5))
        try await mailer.send(message)
        let received = try #require(server.received.first)
        #expect(received.mailFrom == "<store@example.com>")
        #expect(received.rcptTo == ["<buyer@example.com>"])
        #expect(received.data == (try message.rendered()))
        // AUTH PLAIN: \0user\0password, percent-decoded by libcurl.
        let auth = try #require(received.auth.flatMap { Data(base64Encoded: $0) })
        #expect(auth == Data("\0store@example.com\0pa:ss".utf8))
        let parsed = ParsedMail(received.data)
        #expect(parsed.decoded("Subject") == "Reçu n° 1")
        #expect(parsed.body.hasPrefix("Merci !\r\n.\r\nLine with trailing space \r\n"))
    }

    @Test("A rejected recipient is a permanent failure carrying the SMTP reply")
    func rejected() async throws {
        let server = try FakeSMTPServer(mode: .rejectRecipient)
        defer { server.stop() }
        let mailer = SMTPMailer(url: "smtp://127.0.0.1:\(server.port)", timeout: .seconds(5))
        let error = await #expect(throws: MailError.self) { try await mailer.send(message) }
        #expect(error?.smtpReplyCode == 550)
        #expect(error?.isPermanent == true)
        #expect(error?.description.contains("550") == true)
        #expect(server.received.isEmpty)
    }

    @Test("When TLS is required and the server offers no STARTTLS, nothing is sent and the reason says why")
    func tlsRequired() async throws {
        let server = try FakeSMTPServer()
        defer { server.stop() }
        let mailer = SMTPMailer(url: "smtp://u:secretpw@127.0.0.1:\(server.port)", timeout: .seconds(5), requireTLS: true)
        let error = await #expect(throws: MailError.self) { try await mailer.send(message) }
        #expect(error?.curlCode == 64)  // CURLE_USE_SSL_FAILED
        #expect(error?.description.contains("STARTTLS") == true)
        #expect(error?.description.contains("secretpw") == false)
        #expect(server.received.isEmpty)
        #expect(!server.commands.contains { $0.uppercased().hasPrefix("AUTH") })
    }

    @Test("A header injection never reaches the network")
    func injectionBeforeNetwork() async throws {
        let server = try FakeSMTPServer()
        defer { server.stop() }
        var bad = message
        bad.subject = "Hi\r\nBcc: victim@example.com"
        let error = await #expect(throws: MailError.self) {
            try await SMTPMailer(url: "smtp://127.0.0.1:\(server.port)").send(bad)
        }
        #expect(error?.kind == .invalidHeader)
        #expect(server.commands.isEmpty)
    }

    @Test("Several sends at once all arrive")
    func concurrent() async throws {
        let server = try FakeSMTPServer()
        defer { server.stop() }
        let mailer = SMTPMailer(url: "smtp://127.0.0.1:\(server.port)", timeout: .seconds(10))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<5 {
                var m = message
                m.messageID = "m\(i)@souk"
                group.addTask { try await mailer.send(m) }
            }
            try await group.waitForAll()
        }
        #expect(server.received.count == 5)
    }
}

@Suite("Choosing a mailer")
struct MailersTests {
    @Test("Empty SMTP URL → outbox, otherwise SMTP")
    func choose() {
        var settings = Settings().mail
        #expect(Mailers.make(settings: settings, outboxDirectory: "/tmp/o") is OutboxMailer)
        #expect((Mailers.make(settings: settings, outboxDirectory: "/tmp/o") as? OutboxMailer)?.directory == "/tmp/o")
        settings.smtpURL = "  "
        #expect(Mailers.make(settings: settings, outboxDirectory: "/tmp/o") is OutboxMailer)
        settings.smtpURL = "smtps://u:p@mail.example.com:465"
        let smtp = Mailers.make(settings: settings, outboxDirectory: "/tmp/o") as? SMTPMailer
        #expect(smtp?.url == "smtps://u:p@mail.example.com:465")
        #expect(smtp?.timeout == .seconds(30))
    }
}
