import Foundation
import SoukMail
import Testing

@Suite("Mail messages")
struct MailMessageTests {
    @Test("A message keeps what it was given")
    func fields() {
        let message = MailMessage(
            from: "Souk <store@example.com>", to: "buyer@example.com", subject: "Hi", text: "Hello", messageID: "m@souk",
            date: Date(timeIntervalSince1970: 0))
        #expect(message.to == "buyer@example.com" && message.replyTo == nil)
    }
}
