import Foundation
import SoukCore

/// Chooses how mail leaves the store.
public enum Mailers {
    /// SMTP when `settings.smtpURL` is set, otherwise `.eml` files in `outboxDirectory`
    /// (`<data_dir>/outbox`).
    public static func make(settings: Settings.Mail, outboxDirectory: String) -> any Mailer {
        let url = settings.smtpURL.trimmingCharacters(in: .whitespacesAndNewlines)
        if url.isEmpty { return OutboxMailer(directory: outboxDirectory) }
        return SMTPMailer(url: url)
    }
}
